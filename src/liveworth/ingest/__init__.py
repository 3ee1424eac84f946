"""Moving data from a source into the store: the importer of files (:mod:`.importer`), the live
recorder with its journal, reconnects and crash recovery (:mod:`.recorder`), the sources it reads —
live, replay, fake (:mod:`.sources`) — and the TikTok connector (:mod:`.tiktok`, the only module
that imports the optional, AGPL-licensed TikTokLive).
"""
