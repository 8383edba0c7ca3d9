-- An upload's declared size (signed into its presigned PUT as content-length) and the
-- ETag of the object that was last checked: every S3 event for the key compares the
-- object against both, so a replaced object is probed again and a redelivered event
-- for the same object changes nothing.
ALTER TABLE creative_assets
    ADD COLUMN upload_size BIGINT CHECK (upload_size > 0),
    ADD COLUMN upload_etag TEXT;
