## Errors: why a request was refused.
error-title-empty = The title is empty. Say in a few words what is going wrong, for example "too many 500 errors".
error-title-too-long = The title is { $actual } characters long; keep it to { $max } or fewer. Put the details in the description.
error-title-no-letters = The title needs at least one letter or digit so the incident channel can be named after it.
error-bad-channel-name = "{ $value }" is not a valid channel name: use lowercase letters, digits, - and _, at most 80 characters.
error-bad-channel-template = The channel template "{ $value }" is not valid: it needs exactly one {"{"}slug{"}"}, may use {"{"}date{"}"}, and otherwise only lowercase letters, digits, - and _.
error-bad-incident-ref = "{ $value }" is not an incident reference. Use INC-12, 12 or the incident's id.
error-incident-not-found = No incident { $value }. Run `muster incident list` to see the incidents.
error-unknown-severity = Unknown severity "{ $value }". Valid severities: { $valid }.
error-unknown-status = Unknown status "{ $value }". Valid statuses: { $valid }.
error-unknown-role = Unknown role "{ $value }". Valid roles: { $valid }.
error-unknown-team = Unknown team "{ $value }". Valid teams: { $valid }.
error-transition-not-allowed = An incident cannot go from "{ $from }" to "{ $to }". From "{ $from }" it can go to: { $allowed }.
error-already-in-status = The incident is already "{ $value }".
error-same-severity = The incident is already { $value }.
error-empty-text = The text is empty. Write something before sending it.
error-text-too-long = The text is { $actual } characters long; the limit is { $max }.
error-unknown-action-type = Unknown action type "{ $value }". Valid types: { $valid }.
error-unknown-priority = Unknown priority "{ $value }". Use P0, P1, P2 or P3.
error-action-not-found = This incident has no action item { $number }.
error-action-already-done = Action item { $number } is already done.
error-bad-time = "{ $value }" is not a time Muster understands. Use HH:MM (today, UTC), YYYY-MM-DD HH:MM (UTC) or RFC 3339 such as 2026-11-26T14:05:00-05:00.
error-bad-url = "{ $value }" is not a web link. Use a full http:// or https:// address.
error-impact-out-of-order = The impact cannot be { $later } before it has { $earlier }. Check the times.
error-nothing-to-change = Nothing to change: give at least one value.
error-unknown-language = Unknown language "{ $value }". Muster speaks en and fr.

error-unknown-field = Unknown report field "{ $value }". Valid fields: { $valid }.

## Storage errors.
store-error-database-locked = The database is locked by another process and stayed locked for 5 seconds. Nothing was changed; try again, and check for a stuck muster process.
store-error-database-corrupt = The database file is damaged or is not a Muster database. Nothing was changed. Check the path in MUSTER_DATABASE_URL or the config, and restore from a backup if needed.
store-error-database-read-only = The database is read-only. Nothing was changed. Check the file's permissions and the disk.
store-error-database-full = The disk holding the database is full. Nothing was changed. Free some space and try again.
store-error-database-cannot-open = The database cannot be opened: { $detail }. Check the path and its permissions.
store-error-conflict = The incident kept changing while this request was handled. Nothing was changed; try again.
store-error-migration-failed = The database schema could not be updated: { $detail }
store-error-database-error = Database error: { $detail }
report-template-error = The report template { $name } has an error at line { $line }: { $detail }

## Configuration errors.
config-error-at = line { $line }, column { $column }: { $message }
config-error-syntax = { $detail }
config-error-duplicate = the { $what } "{ $value }" is defined twice (names are compared without case, spaces, - or _).
config-error-unknown-status = "{ $value }" is not one of the statuses listed under [[lifecycle.statuses]].
config-error-unknown-severity = "{ $value }" is not one of the severities listed under [[severities]].
config-error-unknown-role = "{ $value }" is not one of the roles listed under [[roles]].
config-error-empty = { $what } must list at least one entry.
config-error-bad-template = the channel template "{ $value }" needs exactly one {"{"}slug{"}"}, may use {"{"}date{"}"}, must leave room for the title within 80 characters, and may otherwise only use lowercase letters, digits, - and _.
config-error-bad-url = "{ $value }" is not an http:// or https:// address.
config-error-bad-language = "{ $value }" is not a language Muster speaks: use "en" or "fr".

## Timeline entries Muster records.
timeline-declared = Incident declared: { $title } ({ $severity })
timeline-security-suffix = , flagged as a security incident
timeline-drill-suffix = , as a drill
timeline-channel-named = Incident channel: #{ $name }
timeline-meeting-created = Meeting room opened: { $url }
timeline-role-assigned = { $person } is now { $role }
timeline-status-changed = Status changed from { $from } to { $to }
timeline-severity-changed = Severity changed from { $from } to { $to }
timeline-status-update = Status update: { $text }
timeline-action-added = Action item { $number } added: { $text }
timeline-action-done = Action item { $number } done
timeline-impact-recorded = { $field } recorded as { $at }
timeline-resolved = Incident resolved
timeline-closed = Incident closed
timeline-edited = Edited: { $fields }

impact-detected = Detection
impact-started = Start of impact
impact-mitigated = Mitigation
impact-ended = End of impact

field-title = title
field-description = description
field-team = team
field-summary = summary
field-impact_users = impact on end users
field-impact_staff = impact on staff
field-impact_partners = impact on partner organisations
field-impact_other = other impact
field-trigger = trigger
field-detection = detection
field-resolution = resolution
field-root_causes = root causes
field-went_well = what went well
field-went_wrong = what went wrong
field-got_lucky = where we got lucky

action-type-investigate = Investigate
action-type-mitigate = Mitigate
action-type-repair = Repair
action-type-detect = Detect
action-type-prevent = Prevent

## Command line.
cli-declared = Declared { $number }: { $title } ({ $severity }, { $status })
cli-declared-next = Next: open the meeting, assign roles with `muster incident role { $number } ops-lead NAME`, and post updates with `muster incident update { $number } "…"`.
cli-status-changed = { $number } is now { $status }.
cli-severity-changed = { $number } is now { $severity }.
cli-role-assigned = { $number } roles: { $roles }.
cli-note-added = Note added to the timeline of { $number }.
cli-update-posted = Status update posted on { $number }.
cli-action-added = Action item { $action } added to { $number }.
cli-action-done = Action item marked done on { $number }.
cli-impact-recorded = Impact times recorded on { $number }.
cli-edited = { $number } updated.
cli-resolved = { $number } resolved; it is now { $status }.
cli-closed = { $number } closed.
cli-migrated = Database { $url } is up to date ({ $count } migrations applied now).
cli-report-written = Report written to { $path }.
cli-bad-format = Unknown format "{ $value }". Use md or html.
cli-write-failed = Could not write { $path }: { $detail }
cli-config-unreadable = Could not read the configuration file { $path }: { $detail }
cli-config-valid = { $path } is valid.
cli-template-unreadable = Could not read the report template { $path }: { $detail }
cli-list-empty = No incidents match.
cli-list-total = { $shown } of { $total } incidents shown.
cli-col-number = Number
cli-col-severity = Severity
cli-col-status = Status
cli-col-declared = Declared (UTC)
cli-col-title = Title
cli-label-status = Status
cli-label-severity = Severity
cli-label-team = Team
cli-label-declared = Declared
cli-label-channel = Channel
cli-label-meeting = Meeting
cli-security-flag = Security incident: private.
cli-drill-flag = Drill: left out of metrics.
cli-heading-roles = Roles
cli-heading-impact = Impact
cli-heading-timeline = Timeline
cli-heading-updates = Status updates
cli-heading-actions = Action items
