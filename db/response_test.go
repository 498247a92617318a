package db_test

import (
	"context"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

func TestResponses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	admin := mustCreateUser(t, d, "root@example.com", triage.RoleAdmin)
	ack := &triage.Response{Name: "Thanks", Body: "Hello {{researcher}},\r\nwe look at {{tracking_id}}."}
	if err := d.SaveResponse(ctx, ack, actor(admin)); err != nil || ack.ID == 0 {
		t.Fatalf("save: %v %d", err, ack.ID)
	}
	info := &triage.Response{Name: "Need more", Body: "Could you send a PoC?", DefaultFor: triage.StatusNeedsInfo}
	if err := d.SaveResponse(ctx, info, actor(admin)); err != nil {
		t.Fatal(err)
	}
	got, err := d.Responses(ctx)
	if err != nil || len(got) != 2 || got[0].Name != "Need more" || got[1].Body != "Hello {{researcher}},\nwe look at {{tracking_id}}." {
		t.Fatalf("responses %+v %v", got, err)
	}
	if r, err := d.DefaultResponse(ctx, triage.StatusNeedsInfo); err != nil || r.ID != info.ID {
		t.Errorf("default for needs-info: %+v %v", r, err)
	}
	_, err = d.DefaultResponse(ctx, triage.StatusSpam)
	wantCode(t, err, triage.ENOTFOUND)

	// A second default for the same status, a name taken (in any case),
	// an unknown variable: refused.
	wantCode(t, d.SaveResponse(ctx, &triage.Response{Name: "Other", Body: "x", DefaultFor: triage.StatusNeedsInfo}, actor(admin)), triage.ECONFLICT)
	wantCode(t, d.SaveResponse(ctx, &triage.Response{Name: "THANKS", Body: "x"}, actor(admin)), triage.ECONFLICT)
	wantCode(t, d.SaveResponse(ctx, &triage.Response{Name: "Odd", Body: "{{name}}"}, actor(admin)), triage.EINVALID)

	info.DefaultFor = ""
	info.Body = "Changed."
	if err := d.SaveResponse(ctx, info, actor(admin)); err != nil {
		t.Fatal(err)
	}
	if r, err := d.Response(ctx, info.ID); err != nil || r.Body != "Changed." || r.DefaultFor != "" || r.UpdatedBy != admin.ID {
		t.Errorf("updated: %+v %v", r, err)
	}
	if err := d.DeleteResponse(ctx, ack.ID, actor(admin)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, d.DeleteResponse(ctx, ack.ID, actor(admin)), triage.ENOTFOUND)
	wantCode(t, d.SaveResponse(ctx, &triage.Response{ID: ack.ID, Name: "Gone", Body: "x"}, actor(admin)), triage.ENOTFOUND)
	var n int
	if err := rawSQL(t, path).QueryRow(`SELECT count(*) FROM audit_log WHERE action LIKE 'response.%' AND actor_email = 'root@example.com'`).Scan(&n); err != nil || n != 4 {
		t.Errorf("%d audit records, want 4 (2 create, 1 update, 1 delete): %v", n, err)
	}
}
