-- 0015: from report to published advisory (issue 15) — the disclosure
-- deadline and embargo, the CRA (Cyber Resilience Act, Art. 14) clocks,
-- advisories and CVE IDs.

-- A report's deadlines (triage.Deadlines), one row once it has any: the
-- disclosure deadline from its first acceptance, an embargo, the CRA
-- clocks once it is marked actively exploited. The *_counting columns are
-- the due times of the deadlines that count down (NULL once done,
-- stopped, or not started), kept by db.saveDeadlines whenever the report
-- or its deadlines change, so the notifier and the board's due-soon group
-- find them in SQL.
CREATE TABLE report_deadlines (
	report_id              INTEGER PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
	disclosure_due_at      TEXT,
	disclosure_extended    INTEGER NOT NULL DEFAULT 0, -- staff moved it: the policy no longer sets it
	embargo_until          TEXT,
	actively_exploited     INTEGER NOT NULL DEFAULT 0,
	aware_at               TEXT,
	ew_sent_at             TEXT,
	ew_reference           TEXT    NOT NULL DEFAULT '',
	notification_sent_at   TEXT,
	notification_reference TEXT    NOT NULL DEFAULT '',
	final_sent_at          TEXT,
	final_reference        TEXT    NOT NULL DEFAULT '',
	disclosure_counting    TEXT,
	ew_counting            TEXT,
	notification_counting  TEXT,
	final_counting         TEXT
);
CREATE INDEX report_deadlines_disclosure ON report_deadlines (disclosure_counting) WHERE disclosure_counting IS NOT NULL;
CREATE INDEX report_deadlines_ew ON report_deadlines (ew_counting) WHERE ew_counting IS NOT NULL;
CREATE INDEX report_deadlines_notification ON report_deadlines (notification_counting) WHERE notification_counting IS NOT NULL;
CREATE INDEX report_deadlines_final ON report_deadlines (final_counting) WHERE final_counting IS NOT NULL;

-- Reports accepted before this migration get the default deadline, 90
-- days after receipt (fixed width, as in 0003).
INSERT INTO report_deadlines (report_id, disclosure_due_at, disclosure_counting)
	SELECT id, strftime('%Y-%m-%dT%H:%M:%f', received_at, '+90 days') || '000000Z',
		CASE WHEN status IN ('disclosed', 'duplicate', 'not-applicable', 'informative', 'spam') THEN NULL
		ELSE strftime('%Y-%m-%dT%H:%M:%f', received_at, '+90 days') || '000000Z' END
	FROM reports WHERE accepted_at IS NOT NULL;

-- Advisories (triage.Advisory): drafted from reports, published once they
-- are disclosed and no embargo holds. public_id is "SA-YYYY-NNNN".
CREATE TABLE advisories (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	public_id    TEXT    NOT NULL UNIQUE,
	title        TEXT    NOT NULL,
	summary      TEXT    NOT NULL DEFAULT '',
	products     TEXT    NOT NULL DEFAULT '[]', -- JSON [{"name","affected","fixed"}]
	cwe          TEXT    NOT NULL DEFAULT '',
	refs         TEXT    NOT NULL DEFAULT '[]', -- JSON [url]
	created_at   TEXT    NOT NULL,
	created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
	updated_at   TEXT    NOT NULL,
	published_at TEXT,                          -- NULL: a draft
	revisions    TEXT    NOT NULL DEFAULT '[]'  -- JSON [{"number","date","summary"}]
);
CREATE INDEX advisories_published ON advisories (published_at) WHERE published_at IS NOT NULL;

CREATE TABLE advisory_reports (
	advisory_id INTEGER NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
	report_id   INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
	PRIMARY KEY (advisory_id, report_id)
) WITHOUT ROWID;
CREATE INDEX advisory_reports_report ON advisory_reports (report_id, advisory_id);

-- The documents of an advisory's latest publication, byte for byte as
-- served (and as signed): kind is csaf, csaf.asc, osv, or cve:CVE-YYYY-N.
CREATE TABLE advisory_documents (
	advisory_id INTEGER NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
	kind        TEXT    NOT NULL,
	body        BLOB    NOT NULL,
	PRIMARY KEY (advisory_id, kind)
) WITHOUT ROWID;

-- CVE IDs of reports (triage.CVERecord): reserved through CVE Services
-- (source cve-services: secinbox publishes their records when an advisory
-- covering the report is published) or recorded by hand (source manual:
-- another CNA assigned it).
CREATE TABLE report_cves (
	cve_id        TEXT    PRIMARY KEY,
	report_id     INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
	source        TEXT    NOT NULL CHECK (source IN ('cve-services', 'manual')),
	added_at      TEXT    NOT NULL,
	added_by      INTEGER REFERENCES users (id) ON DELETE SET NULL,
	published_at  TEXT,                       -- the record, published at CVE Services
	publish_error TEXT    NOT NULL DEFAULT '' -- the last attempt's failure
);
CREATE INDEX report_cves_report ON report_cves (report_id, added_at);
