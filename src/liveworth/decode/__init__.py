"""From TikTok's bytes to liveworth's events: the webcast protobuf decoder (:mod:`.webcast`), the
raw sources it reads — collector dumps, the recorder's journal, saved frames (:mod:`.rawsources`) —
and event format v1, the project's own frozen records (:mod:`.events`).

Decoding is a pure function of the bytes; nothing here touches the store.
"""
