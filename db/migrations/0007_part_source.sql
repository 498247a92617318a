-- 0007: which attachment holds the HTML source of a body part taken from
-- HTML, so the report page links each such part to its own source rather
-- than guessing by file name (a sender may attach a file named body.html).
-- NULL: no source (a text part, or a report filed before this column).
ALTER TABLE report_parts ADD COLUMN source_attachment INTEGER REFERENCES attachments (id) ON DELETE SET NULL;
