# sched_lib.bash: shared by the scheduling tests (test_rueda_*, test_meeting_*, test_sched_*;
# sourced after test_jobs_lib.bash, not a test). sched_setup loads the Jornada's demo data
# into the test's store through the ordinary importer, starts a broker and match workers only
# (no notify or report workers: these tests judge the timetable), scores and schedules the
# event — the `minga demo` steps without its later stages.
E=jornada-2026

sched_setup() {
    m init >/dev/null 2>&1 || fail "init"
    m demo-data --out "$STORE/data" >/dev/null 2>&1 || fail "demo-data"
    local k ev
    for k in gads cooperantes offers demands events participants preferences; do
        ev=()
        [ "$k" = participants ] || [ "$k" = preferences ] && ev=(--event "$E")
        m import "$k" "$STORE/data/$k.csv" "${ev[@]}" >/dev/null 2>"$STORE/import.err" ||
            fail "import $k: $(tail -3 "$STORE/import.err")"
    done
    m up --match-workers 2 --notify-workers 0 --report-workers 0 --test-workers 0 >/dev/null 2>&1 ||
        fail "minga up"
    m rueda score "$E" >/dev/null 2>"$STORE/score.err" || fail "score: $(tail -3 "$STORE/score.err")"
    m rueda schedule "$E" >"$STORE/schedule.out" 2>"$STORE/schedule.err" ||
        fail "schedule: $(tail -3 "$STORE/schedule.err")"
}
