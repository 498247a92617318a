package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// The organisation's name and logo, shown in every page's header, and
// the disclosure policy's own words: an admin sets them at /admin/site.

// SiteStore is what the site's words and logo need from the database;
// Store embeds it.
type SiteStore interface {
	// Site returns the site's words (the zero Site until set).
	Site(ctx context.Context) (*triage.Site, error)
	// Logo returns the logo's bytes and type, or ENOTFOUND.
	Logo(ctx context.Context) ([]byte, string, error)
	// SetSite stores the words and, when logo is not nil, the logo
	// (empty: none), audited. EINVALID names a bad field.
	SetSite(ctx context.Context, s *triage.Site, logo []byte, by triage.Actor, now time.Time) error
}

// branding is what the layouts show of the organisation. A failure to
// read it shows the default: a page does not fail for its header.
func (s *server) branding(ctx context.Context) templates.Branding {
	site, err := s.store.Site(ctx)
	if err != nil {
		s.log.DebugContext(ctx, "reading the site's branding", "err", err)
		return templates.Branding{}
	}
	b := templates.Branding{Name: site.Organisation}
	if site.LogoSHA256 != "" {
		b.LogoURL = "/logo?v=" + site.LogoSHA256[:16]
	}
	return b
}

// logo serves the organisation's logo: an image type checked from its
// bytes when it was stored, never rendered as anything else.
func (s *server) logo(w http.ResponseWriter, r *http.Request) {
	data, typ, err := s.store.Logo(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("Content-Security-Policy", contentSecurityPolicy+"; sandbox")
	h.Set("Cache-Control", "public, max-age=86400") // the URL changes with the logo
	h.Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// maxSiteForm bounds the site form: the logo and four texts.
const maxSiteForm = triage.MaxLogoBytes + 5*triage.MaxSiteText + 64<<10

// adminSite is the form for the organisation and the policy page.
func (s *server) adminSite(w http.ResponseWriter, r *http.Request) {
	site, err := s.store.Site(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v := siteView(site)
	v.Nav = staffNav(userFrom(r.Context()))
	if r.URL.Query().Get("saved") == "1" {
		v.Notice = "Saved."
	}
	s.render(w, r, http.StatusOK, templates.SitePage(v))
}

func siteView(site *triage.Site) templates.SiteView {
	v := templates.SiteView{
		Organisation: site.Organisation, ScopeIn: site.ScopeIn, ScopeOut: site.ScopeOut,
		SafeHarbour: site.SafeHarbour, Languages: site.Languages, MaxLogoKiB: triage.MaxLogoBytes >> 10,
		HasLogo: site.LogoSHA256 != "",
	}
	if v.HasLogo {
		v.LogoURL = "/logo?v=" + site.LogoSHA256[:16]
	}
	return v
}

// adminSiteSave stores the form (multipart: the logo is a file).
func (s *server) adminSiteSave(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSiteForm)
	if err := r.ParseMultipartForm(maxSiteForm); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.Error(w, r, triage.Errorf(triage.EINVALID, "logo: larger than %d KiB", triage.MaxLogoBytes>>10))
			return
		}
		s.Error(w, r, triage.Errorf(triage.EINVALID, "malformed form"))
		return
	}
	defer r.MultipartForm.RemoveAll()
	site := &triage.Site{
		Organisation: r.PostFormValue("organisation"),
		ScopeIn:      r.PostFormValue("scope_in"),
		ScopeOut:     r.PostFormValue("scope_out"),
		SafeHarbour:  r.PostFormValue("safe_harbour"),
		Languages:    r.PostFormValue("languages"),
	}
	var logo []byte
	if r.PostFormValue("remove_logo") == "1" {
		logo = []byte{}
	} else if f, _, err := r.FormFile("logo"); err == nil {
		logo, err = io.ReadAll(io.LimitReader(f, triage.MaxLogoBytes+1))
		f.Close()
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if len(logo) == 0 {
			logo = nil // no file chosen
		}
	}
	if err := s.store.SetSite(r.Context(), site, logo, actorOf(r), s.now()); err != nil {
		if triage.ErrorCode(err) != triage.EINVALID {
			s.Error(w, r, err)
			return
		}
		cur, cerr := s.store.Site(r.Context())
		if cerr != nil {
			s.Error(w, r, cerr)
			return
		}
		v := siteView(site)
		v.HasLogo, v.LogoURL = cur.LogoSHA256 != "", siteView(cur).LogoURL
		v.Nav = staffNav(userFrom(r.Context()))
		v.Error = triage.ErrorMessage(err)
		if field, _, ok := strings.Cut(v.Error, ":"); ok && strings.Contains("organisation logo scope_in scope_out safe_harbour languages", field) {
			v.ErrorField = field
		}
		s.render(w, r, http.StatusBadRequest, templates.SitePage(v))
		return
	}
	s.hallChanged() // the hall of fame's page shows the header too
	http.Redirect(w, r, "/admin/site?saved=1", http.StatusSeeOther)
}
