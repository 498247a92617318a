package advisory

import (
	"strings"
	"time"
)

// The CSAF provider: /.well-known/csaf/provider-metadata.json (CSAF 2.0
// section 7.1.7) names the publisher, the key that signs the documents,
// and one ROLIE feed (section 7.1.15, RFC 8322) of every published
// advisory, TLP:WHITE. security.txt's CSAF field points at the metadata.

type providerMetadata struct {
	CanonicalURL            string         `json:"canonical_url"`
	Distributions           []distribution `json:"distributions"`
	LastUpdated             string         `json:"last_updated"`
	ListOnCSAFAggregators   bool           `json:"list_on_CSAF_aggregators"`
	MetadataVersion         string         `json:"metadata_version"`
	MirrorOnCSAFAggregators bool           `json:"mirror_on_CSAF_aggregators"`
	PublicOpenPGPKeys       []publicPGPKey `json:"public_openpgp_keys,omitempty"`
	Publisher               csafPublisher  `json:"publisher"`
	Role                    string         `json:"role"`
}

type distribution struct {
	ROLIE struct {
		Feeds []rolieFeedRef `json:"feeds"`
	} `json:"rolie"`
}

type rolieFeedRef struct {
	Summary  string `json:"summary"`
	TLPLabel string `json:"tlp_label"`
	URL      string `json:"url"`
}

type publicPGPKey struct {
	Fingerprint string `json:"fingerprint,omitempty"`
	URL         string `json:"url"`
}

// ProviderMetadata returns the provider metadata of p, last updated at
// updated (the latest publication; any fixed time without one), with the
// signing key's fingerprint ("" to leave it out) served at keyPath.
func ProviderMetadata(p Publisher, keyFingerprint, keyPath string, updated time.Time) ([]byte, error) {
	base := strings.TrimRight(p.BaseURL, "/")
	m := providerMetadata{
		CanonicalURL:            base + ProviderMetadataPath,
		LastUpdated:             rfc3339(updated),
		ListOnCSAFAggregators:   true,
		MetadataVersion:         "2.0",
		MirrorOnCSAFAggregators: true,
		Publisher:               csafPublisher{Category: "vendor", ContactDetails: p.Contact, Name: p.Name, Namespace: base},
		Role:                    "csaf_provider",
	}
	var d distribution
	d.ROLIE.Feeds = []rolieFeedRef{{Summary: "TLP:WHITE advisories", TLPLabel: "WHITE", URL: base + FeedPath}}
	m.Distributions = []distribution{d}
	if keyPath != "" {
		m.PublicOpenPGPKeys = []publicPGPKey{{Fingerprint: strings.ToUpper(keyFingerprint), URL: base + keyPath}}
	}
	return marshal(m)
}

// FeedEntry is one published advisory in the ROLIE feed.
type FeedEntry struct {
	PublicID  string
	Title     string
	Published time.Time
	Updated   time.Time
	Signed    bool // a .asc signature is served
}

type rolieFeed struct {
	Feed struct {
		ID       string          `json:"id"`
		Title    string          `json:"title"`
		Link     []rolieLink     `json:"link"`
		Category []rolieCategory `json:"category"`
		Updated  string          `json:"updated"`
		Entry    []rolieEntry    `json:"entry"`
	} `json:"feed"`
}

type rolieLink struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

type rolieCategory struct {
	Scheme string `json:"scheme"`
	Term   string `json:"term"`
}

type rolieEntry struct {
	ID        string      `json:"id"`
	Title     string      `json:"title"`
	Link      []rolieLink `json:"link"`
	Published string      `json:"published"`
	Updated   string      `json:"updated"`
	Content   struct {
		Type string `json:"type"`
		Src  string `json:"src"`
	} `json:"content"`
	Format struct {
		Schema  string `json:"schema"`
		Version string `json:"version"`
	} `json:"format"`
}

// ROLIEFeed returns the TLP:WHITE feed of entries (newest first), last
// updated at updated.
func ROLIEFeed(p Publisher, entries []FeedEntry, updated time.Time) ([]byte, error) {
	base := strings.TrimRight(p.BaseURL, "/")
	var f rolieFeed
	f.Feed.ID = "csaf-feed-tlp-white"
	f.Feed.Title = p.Name + " CSAF feed (TLP:WHITE)"
	f.Feed.Link = []rolieLink{{Rel: "self", Href: base + FeedPath}}
	f.Feed.Category = []rolieCategory{{Scheme: "urn:ietf:params:rolie:category:information-type", Term: "csaf"}}
	f.Feed.Updated = rfc3339(updated)
	f.Feed.Entry = []rolieEntry{}
	for _, e := range entries {
		doc := base + CSAFPath(e.PublicID)
		re := rolieEntry{ID: e.PublicID, Title: e.Title, Published: rfc3339(e.Published), Updated: rfc3339(e.Updated)}
		re.Link = []rolieLink{{Rel: "self", Href: doc}, {Rel: "hash", Href: doc + ".sha512"}}
		if e.Signed {
			re.Link = append(re.Link, rolieLink{Rel: "signature", Href: doc + ".asc"})
		}
		re.Content.Type, re.Content.Src = "application/json", doc
		re.Format.Schema, re.Format.Version = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json", "2.0"
		f.Feed.Entry = append(f.Feed.Entry, re)
	}
	return marshal(f)
}
