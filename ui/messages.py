"""Error and warning codes from the core, as translated text. The one place that does it.

The core raises codes with non-personal parameters (DESIGN §3.9); this module
maps each code to an English source string marked for Qt Linguist
(``QT_TRANSLATE_NOOP``) and translates it at display time, so switching the
language needs no restart of this module. Parameters are inserted with
``str.format``; translations keep the ``{placeholders}``.

Codes of free-text fields are built by the core as ``<field>.<problem>``
(``address_line.too_long``); those fall back to a message per ``<problem>``.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QCoreApplication

from kernel.errors import (
    FieldIssue,
    NeedsConfirmation,
    NeedsOverride,
    NotFound,
    PermissionDenied,
    StationError,
    StoreError,
    ValidationError,
)
from ui import labels
from ui.i18n import QT_TRANSLATE_NOOP

CTX = "Messages"

MESSAGES: dict[str, str] = {
    # names, dates, sex, ID numbers, phones
    "name.required": QT_TRANSLATE_NOOP("Messages", "Enter the full name."),
    "name.too_long": QT_TRANSLATE_NOOP("Messages", "The name is too long (at most {max} characters)."),
    "name.invalid_chars": QT_TRANSLATE_NOOP("Messages", "The name contains characters that are not letters."),
    "name.too_short": QT_TRANSLATE_NOOP("Messages", "The name is too short."),
    "date.required": QT_TRANSLATE_NOOP("Messages", "Enter the date (dd/mm/yyyy)."),
    "date.format": QT_TRANSLATE_NOOP("Messages", "Write the date as dd/mm/yyyy (or the year alone for a birth date)."),
    "date.impossible": QT_TRANSLATE_NOOP("Messages", "This date does not exist."),
    "date.future": QT_TRANSLATE_NOOP("Messages", "The date is in the future."),
    "date.too_old": QT_TRANSLATE_NOOP("Messages", "The year must be {min_year} or later."),
    "sex.required": QT_TRANSLATE_NOOP("Messages", "Choose the sex."),
    "sex.invalid": QT_TRANSLATE_NOOP("Messages", "Choose male or female."),
    "id.required": QT_TRANSLATE_NOOP("Messages", "Enter the ID number (or choose “no document”)."),
    "id.cccd_format": QT_TRANSLATE_NOOP("Messages", "A CCCD number has 12 digits (you typed {length})."),
    "id.cmnd_format": QT_TRANSLATE_NOOP("Messages", "A CMND number has 9 or 12 digits (you typed {length})."),
    "id.passport_format": QT_TRANSLATE_NOOP("Messages", "A passport number has 6 to 12 letters and digits."),
    "id.not_expected": QT_TRANSLATE_NOOP("Messages", "“No document” is chosen: leave the number empty."),
    "id.province_unknown": QT_TRANSLATE_NOOP("Messages", "The first 3 digits are not a known province code: check the number."),
    "id.century_mismatch": QT_TRANSLATE_NOOP("Messages", "The ID number does not match the century of birth: check both."),
    "id.birth_year_mismatch": QT_TRANSLATE_NOOP("Messages", "The ID number does not match the year of birth: check both."),
    "id.sex_mismatch": QT_TRANSLATE_NOOP("Messages", "The ID number does not match the sex: check both."),
    "id_type.invalid": QT_TRANSLATE_NOOP("Messages", "Choose the kind of document."),
    "phone.required": QT_TRANSLATE_NOOP("Messages", "Enter a mobile phone number."),
    "phone.invalid": QT_TRANSLATE_NOOP("Messages", "A mobile number has 10 digits and starts with 03, 05, 07, 08 or 09."),
    "phone.too_long": QT_TRANSLATE_NOOP("Messages", "The phone number is too long."),
    "phone.landline": QT_TRANSLATE_NOOP("Messages", "A landline: it is kept, but it cannot receive an SMS. Add a mobile number if the person has one."),
    "phone.legacy_converted": QT_TRANSLATE_NOOP("Messages", "Old 11-digit number converted ({from} → {to})."),
    "phone.unknown_prefix": QT_TRANSLATE_NOOP("Messages", "Unusual prefix {prefix}: check the number."),
    "bhyt.invalid": QT_TRANSLATE_NOOP("Messages", "The health insurance number is not valid."),
    "priority_group.required": QT_TRANSLATE_NOOP("Messages", "Choose the priority group."),
    "priority_group.invalid": QT_TRANSLATE_NOOP("Messages", "Choose the priority group from the list."),
    "priority_group.unknown": QT_TRANSLATE_NOOP("Messages", "Priority groups are numbered {min} to {max}."),
    "province_code.unknown": QT_TRANSLATE_NOOP("Messages", "Choose the province from the list."),
    "ward_code.unknown": QT_TRANSLATE_NOOP("Messages", "Choose the ward from the list."),
    "ward_code.not_in_province": QT_TRANSLATE_NOOP("Messages", "This ward is not in the chosen province."),
    # CCCD QR
    "qr.too_few_fields": QT_TRANSLATE_NOOP("Messages", "This is not a CCCD QR code (too few fields). Scan again."),
    "qr.too_long": QT_TRANSLATE_NOOP("Messages", "The scanned text is too long to be a CCCD QR code."),
    "qr.bad_id": QT_TRANSLATE_NOOP("Messages", "The QR code has no valid 12-digit ID number. Scan again."),
    "qr.bad_name": QT_TRANSLATE_NOOP("Messages", "The name in the QR code could not be read. Scan again or type it."),
    "qr.bad_birth": QT_TRANSLATE_NOOP("Messages", "The date of birth in the QR code could not be read."),
    "qr.bad_sex": QT_TRANSLATE_NOOP("Messages", "The sex in the QR code could not be read."),
    "qr.bad_old_id": QT_TRANSLATE_NOOP("Messages", "The old ID number in the QR code was ignored."),
    "qr.bad_issue_date": QT_TRANSLATE_NOOP("Messages", "The issue date in the QR code was ignored."),
    # people and registrations
    "person.duplicate_id": QT_TRANSLATE_NOOP("Messages", "A person with this ID number is already registered."),
    "person.not_found": QT_TRANSLATE_NOOP("Messages", "This person was not found."),
    "person.not_active": QT_TRANSLATE_NOOP("Messages", "This record was merged or retired."),
    "person.no_change": QT_TRANSLATE_NOOP("Messages", "Nothing was changed."),
    "field.not_editable": QT_TRANSLATE_NOOP("Messages", "This field cannot be changed here."),
    "registration.exists": QT_TRANSLATE_NOOP("Messages", "This person is already on today's list."),
    "registration.not_found": QT_TRANSLATE_NOOP("Messages", "The registration was not found."),
    "registration.other_site": QT_TRANSLATE_NOOP("Messages", "This registration belongs to another site."),
    "registration.not_today": QT_TRANSLATE_NOOP("Messages", "This registration is for another day."),
    "registration.already_checked_in": QT_TRANSLATE_NOOP("Messages", "Already checked in."),
    "day.past": QT_TRANSLATE_NOOP("Messages", "The day is in the past."),
    # screening
    "screening.not_checked_in": QT_TRANSLATE_NOOP("Messages", "Check the person in before screening."),
    "screening.already_vaccinated": QT_TRANSLATE_NOOP("Messages", "This person was already vaccinated today."),
    "screening.unanswered": QT_TRANSLATE_NOOP("Messages", "Answer this question."),
    "screening.invalid": QT_TRANSLATE_NOOP("Messages", "Answer yes or no."),
    "screening.unknown_item": QT_TRANSLATE_NOOP("Messages", "Unknown question."),
    "screening.not_applicable": QT_TRANSLATE_NOOP("Messages", "This question does not apply to this person."),
    "screening.no_form": QT_TRANSLATE_NOOP("Messages", "No screening form covers this person's age today (COVID-19 forms start at age 5)."),
    "form_id.not_current": QT_TRANSLATE_NOOP("Messages", "This screening form is not in use today."),
    "form_id.wrong_age": QT_TRANSLATE_NOOP("Messages", "This screening form is for other ages."),
    "vitals.invalid": QT_TRANSLATE_NOOP("Messages", "Enter a number."),
    "vitals.implausible": QT_TRANSLATE_NOOP("Messages", "Check the value (expected {min} to {max})."),
    "outcome.invalid": QT_TRANSLATE_NOOP("Messages", "Choose the outcome."),
    "form_id.unknown": QT_TRANSLATE_NOOP("Messages", "Unknown screening form."),
    # doses
    "dose.screening_required": QT_TRANSLATE_NOOP("Messages", "Screening is required before the dose."),
    "dose.screening_not_cleared": QT_TRANSLATE_NOOP("Messages", "The screening did not clear this person for vaccination."),
    "dose.interval_too_short": QT_TRANSLATE_NOOP("Messages", "Only {days} days since the last dose (minimum {min_days})."),
    "dose.interval_too_long": QT_TRANSLATE_NOOP("Messages", "{days} days since the last dose (recommended at most {max_days})."),
    "dose.mix_not_allowed": QT_TRANSLATE_NOOP("Messages", "No rule allows this vaccine after {series_vaccine} on this day, at this age."),
    "dose.mix_first_unavailable": QT_TRANSLATE_NOOP("Messages", "Another vaccine after {series_vaccine} is allowed only when {series_vaccine} is not available: confirm it is not."),
    "dose.interval_below_recommended": QT_TRANSLATE_NOOP("Messages", "{days} days since the last dose: allowed here, but shorter than the recommended {recommended_days}."),
    "dose.age_below_min": QT_TRANSLATE_NOOP("Messages", "This vaccine is for people aged {min_age} and over; this person is younger."),
    "dose.age_above_max": QT_TRANSLATE_NOOP("Messages", "This vaccine is for people up to age {max_age}; this person is older."),
    "dose.age_uncertain": QT_TRANSLATE_NOOP("Messages", "Only the birth year is known: check that the person's age fits this vaccine."),
    "dose.contraindicated": QT_TRANSLATE_NOOP("Messages", "Contraindicated by today's screening: {condition}."),
    "dose.before_in_use": QT_TRANSLATE_NOOP("Messages", "This vaccine was not in use before {in_use_from}: check the date."),
    "given_on.before_birth": QT_TRANSLATE_NOOP("Messages", "The date is before the person's birth."),
    "override.required": QT_TRANSLATE_NOOP("Messages", "Only a supervisor can let this dose through, with a reason."),
    "profile.unknown": QT_TRANSLATE_NOOP("Messages", "Unknown interval profile."),
    "dose.number_unexpected": QT_TRANSLATE_NOOP("Messages", "Dose number differs from the history (expected dose {expected})."),
    "dose.number_invalid": QT_TRANSLATE_NOOP("Messages", "This dose number is not possible."),
    "dose.kind_unexpected": QT_TRANSLATE_NOOP("Messages", "Unexpected kind of dose for this history."),
    "dose.same_day": QT_TRANSLATE_NOOP("Messages", "A dose was already given on this day."),
    "dose.same_day_other_desk": QT_TRANSLATE_NOOP(
        "Messages",
        "Another desk (…{desk}) already gave this person {vaccine} today at {given_at}. Nothing was saved: "
        "check with that desk before giving a dose."),
    "dose.bad_kind": QT_TRANSLATE_NOOP("Messages", "Choose primary, additional or booster."),
    "dose.unknown_vaccine": QT_TRANSLATE_NOOP("Messages", "Unknown vaccine."),
    "dose.not_found": QT_TRANSLATE_NOOP("Messages", "The dose was not found."),
    "dose.already_voided": QT_TRANSLATE_NOOP("Messages", "This dose is already voided."),
    "dose.voided": QT_TRANSLATE_NOOP("Messages", "This dose was voided."),
    "dose.already_observed": QT_TRANSLATE_NOOP("Messages", "The observation of this dose is already finished."),
    "early_reason.required": QT_TRANSLATE_NOOP("Messages", "{minutes_left} min of observation left: choose why it ends early."),
    "early_reason.invalid": QT_TRANSLATE_NOOP("Messages", "Choose a reason from the list."),
    "administered_at.format": QT_TRANSLATE_NOOP("Messages", "The time of the dose is not valid."),
    "administered_at.future": QT_TRANSLATE_NOOP("Messages", "The time of the dose is in the future."),
    "administered_at.before_build": QT_TRANSLATE_NOOP("Messages", "The time of the dose is before {build_date}: check the computer's clock."),
    "administered_at.late_entry": QT_TRANSLATE_NOOP("Messages", "The dose is entered on a later day."),
    "injection_site.invalid": QT_TRANSLATE_NOOP("Messages", "Choose the injection site."),
    "lot_id.required": QT_TRANSLATE_NOOP("Messages", "Choose the vaccine lot for this session first (F8)."),
    "lot.not_found": QT_TRANSLATE_NOOP("Messages", "The lot was not found at this site."),
    "lot.inactive": QT_TRANSLATE_NOOP("Messages", "This lot is not active."),
    "lot.expired": QT_TRANSLATE_NOOP("Messages", "This lot has expired ({expiry})."),
    "lot.expiry_near": QT_TRANSLATE_NOOP("Messages", "This lot expires soon ({expiry})."),
    "lot.exists": QT_TRANSLATE_NOOP("Messages", "This lot is already registered."),
    "vaccine_code.lot_mismatch": QT_TRANSLATE_NOOP("Messages", "The vaccine does not match the lot."),
    "vaccine_code.unknown": QT_TRANSLATE_NOOP("Messages", "Choose the vaccine."),
    "vaccine_code.no_own_lots": QT_TRANSLATE_NOOP("Messages", "This product comes from the vials of {lot_product}: register the lot as {lot_product}."),
    "lot_number.required": QT_TRANSLATE_NOOP("Messages", "Enter the lot number."),
    "lot_number.too_long": QT_TRANSLATE_NOOP("Messages", "The lot number is too long (at most {max})."),
    "lot_number.invalid_chars": QT_TRANSLATE_NOOP("Messages", "Use letters, digits, “.”, “/” or “-” only."),
    "doses_received.required": QT_TRANSLATE_NOOP("Messages", "Enter the number of doses received."),
    "doses_received.invalid": QT_TRANSLATE_NOOP("Messages", "Enter a whole number."),
    "doses_received.range": QT_TRANSLATE_NOOP("Messages", "Enter a number from {min} to {max}."),
    # adverse events
    "severity.invalid": QT_TRANSLATE_NOOP("Messages", "Choose the severity."),
    "onset_at.format": QT_TRANSLATE_NOOP("Messages", "Write the time as HH:MM."),
    "onset_at.future": QT_TRANSLATE_NOOP("Messages", "The onset is in the future."),
    "onset_at.before_dose": QT_TRANSLATE_NOOP("Messages", "The onset is before the dose."),
    # users, login
    "login.failed": QT_TRANSLATE_NOOP("Messages", "Wrong user name or password."),
    "login.locked": QT_TRANSLATE_NOOP("Messages", "Too many attempts: wait {seconds} seconds."),
    "username.required": QT_TRANSLATE_NOOP("Messages", "Enter a user name."),
    "username.invalid": QT_TRANSLATE_NOOP("Messages", "3–32 lower-case letters, digits, “.”, “_” or “-”."),
    "username.taken": QT_TRANSLATE_NOOP("Messages", "This user name is taken."),
    "password.required": QT_TRANSLATE_NOOP("Messages", "Enter a password."),
    "password.too_short": QT_TRANSLATE_NOOP("Messages", "At least {min} characters."),
    "password.too_long": QT_TRANSLATE_NOOP("Messages", "At most {max} characters."),
    "password.wrong": QT_TRANSLATE_NOOP("Messages", "The current password is wrong."),
    "role.invalid": QT_TRANSLATE_NOOP("Messages", "Choose a role."),
    "user.not_found": QT_TRANSLATE_NOOP("Messages", "The user was not found."),
    "user.cannot_deactivate_self": QT_TRANSLATE_NOOP("Messages", "You cannot deactivate yourself."),
    "permission.denied": QT_TRANSLATE_NOOP("Messages", "Your role may not do this."),
    # clock
    "clock.before_build": QT_TRANSLATE_NOOP("Messages", "The computer's date is before {build_date}: set the clock."),
    "clock.went_back": QT_TRANSLATE_NOOP("Messages", "The computer's clock went back {minutes} minutes: check it."),
    "clock.hub_skew": QT_TRANSLATE_NOOP("Messages", "The computer's clock differs from the hub by {minutes} minutes."),
    # store
    "store.not_initialised": QT_TRANSLATE_NOOP("Messages", "This computer is not set up as a station yet (run “tramtiem init” or “tramtiem demo”)."),
    "store.db_missing": QT_TRANSLATE_NOOP("Messages", "The station database file is missing."),
    "store.bad_metadata": QT_TRANSLATE_NOOP("Messages", "The station's settings file is damaged."),
    "store.keyring_unavailable": QT_TRANSLATE_NOOP("Messages", "The system keyring is not available."),
    "store.key_missing": QT_TRANSLATE_NOOP("Messages", "The database key is missing from the keyring (restore it with the recovery code)."),
    "store.wrong_key": QT_TRANSLATE_NOOP("Messages", "The database key does not open this database."),
    "store.schema_newer": QT_TRANSLATE_NOOP("Messages", "The database was written by a newer version of Trạm Tiêm."),
    "store.schema_old": QT_TRANSLATE_NOOP("Messages", "The database needs an upgrade."),
    # settings and sync
    "settings.language_invalid": QT_TRANSLATE_NOOP("Messages", "Choose a language."),
    "settings.idle_range": QT_TRANSLATE_NOOP("Messages", "Between 1 and 120 minutes."),
    "settings.hub_url_invalid": QT_TRANSLATE_NOOP("Messages", "Write the address as http://host:port or https://host."),
    "sync.rejected": QT_TRANSLATE_NOOP("Messages", "Refused by the hub."),
    # why the hub refused an op (shown with the op to a supervisor)
    "auth.cross_site": QT_TRANSLATE_NOOP("Messages", "This concerns another site's records."),
    "auth.user_unknown": QT_TRANSLATE_NOOP("Messages", "The hub does not know this user at this site."),
    "auth.user_inactive": QT_TRANSLATE_NOOP("Messages", "Recorded by a user who had been deactivated."),
    "auth.forbidden": QT_TRANSLATE_NOOP("Messages", "This user's role may not do this."),
    "auth.actor_mismatch": QT_TRANSLATE_NOOP("Messages", "The staff member named does not match the user who recorded it."),
    "payload.invalid": QT_TRANSLATE_NOOP("Messages", "The hub refused a value of this record."),
    "dose.lot_unknown": QT_TRANSLATE_NOOP("Messages", "The hub does not know this lot."),
    "dose.lot_mismatch": QT_TRANSLATE_NOOP("Messages", "The lot is of another vaccine."),
    "lookup.rate_limited": QT_TRANSLATE_NOOP("Messages", "Too many look-ups from this station; try again in a few minutes."),
    "server.busy": QT_TRANSLATE_NOOP("Messages", "The hub is busy; it will be tried again."),
    # the other reasons an op can be refused with (a station never shows a bare code)
    "person.exists": QT_TRANSLATE_NOOP("Messages", "This person is already at the hub."),
    "person.unknown": QT_TRANSLATE_NOOP("Messages", "The hub does not know this person."),
    "registration.person_unknown": QT_TRANSLATE_NOOP("Messages", "The hub does not know this person."),
    "screening.person_unknown": QT_TRANSLATE_NOOP("Messages", "The hub does not know this person."),
    "dose.person_unknown": QT_TRANSLATE_NOOP("Messages", "The hub does not know this person."),
    "registration.unknown": QT_TRANSLATE_NOOP("Messages", "The hub does not know this registration."),
    "screening.exists": QT_TRANSLATE_NOOP("Messages", "This screening is already at the hub."),
    "dose.exists": QT_TRANSLATE_NOOP("Messages", "This dose is already at the hub."),
    "dose.unknown": QT_TRANSLATE_NOOP("Messages", "The hub does not know this dose."),
    "adverse_event.exists": QT_TRANSLATE_NOOP("Messages", "This reaction is already at the hub."),
    "adverse_event.dose_unknown": QT_TRANSLATE_NOOP("Messages", "The hub does not know the dose this reaction is recorded for."),
    "review.unknown": QT_TRANSLATE_NOOP("Messages", "The hub does not know this review item."),
    "review.stale": QT_TRANSLATE_NOOP("Messages", "This review item changed in the meantime; look at it again."),
    "review.bad_params": QT_TRANSLATE_NOOP("Messages", "This decision is missing a value it needs."),
    "op.entity_mismatch": QT_TRANSLATE_NOOP("Messages", "The record does not match its own id (a fault in this station's software)."),
    "op.id_reused": QT_TRANSLATE_NOOP("Messages", "Another station already sent a change with this id."),
    "scan.ime_rewritten": QT_TRANSLATE_NOOP("Messages", "The card was not read: the Vietnamese typing program (Unikey or EVKey) changed what the scanner typed. Switch it to English: click its icon by the clock until it shows E (or press its switch keys, Ctrl+Shift or Alt+Z), then scan the card again."),
    # the hub's HTTPS certificate (sync.client.TLS_CODES): the text is for IT staff
    "hub.tls_untrusted": QT_TRANSLATE_NOOP("Messages", "The hub's certificate is issued by an authority this computer does not trust (a private CA, or an antivirus that scans HTTPS). Nothing is lost: records wait here. IT staff: install the CA certificate in Windows (Trusted Root Certification Authorities), or set TRAMTIEM_CA_FILE to a copy of it; see the IT guide."),
    "hub.tls_expired": QT_TRANSLATE_NOOP("Messages", "The hub's certificate has expired, or this computer's date is wrong. Nothing is lost: records wait here. Check the clock, then ask the hub's administrator to renew the certificate."),
    "hub.tls_hostname": QT_TRANSLATE_NOOP("Messages", "The hub's certificate is for another name than the address this station uses. Nothing is lost: records wait here. IT staff: enroll with the name in the certificate."),
    "hub.tls_error": QT_TRANSLATE_NOOP("Messages", "The secure connection to the hub failed. Nothing is lost: records wait here. IT staff: check the hub address (https://) and any proxy or antivirus in between."),
    "hub.tls_site_hub": QT_TRANSLATE_NOOP("Messages", "This is not your site's hub: its certificate is not the one the province issued for this site. Nothing was sent to it and nothing is lost: records wait here. IT staff: check the site hub's address."),
    "hub.tls_site_hub_revoked": QT_TRANSLATE_NOOP("Messages", "The province has revoked this site hub's certificate (a site hub that was replaced, lost or stolen). Nothing was sent to it and nothing is lost: records go by the province link. IT staff: turn that machine off, or set up the new site hub."),
    "site_hub.not_found": QT_TRANSLATE_NOOP("Messages", "No site hub of this site answered on the LAN. Nothing is lost: records wait here and go by the province link when it is up. IT staff: check that the site hub is on, or type its address (tramtiem site-hub set ADDRESS)."),
    "relay_code.required": QT_TRANSLATE_NOOP("Messages", "Type the relay code the province made for this site (12 letters and digits, e.g. ABCD-EFGH-JKMN)."),
    "relay_code.format": QT_TRANSLATE_NOOP("Messages", "A relay code is 12 letters and digits, e.g. ABCD-EFGH-JKMN: check what was typed."),
    "relay_code.invalid": QT_TRANSLATE_NOOP("Messages", "The province does not know this relay code: check it, or ask the province for a new one."),
    "relay_code.used": QT_TRANSLATE_NOOP("Messages", "This relay code was already used: ask the province for a new one."),
    "relay_code.expired": QT_TRANSLATE_NOOP("Messages", "This relay code has expired (a code lasts 48 hours): ask the province for a new one."),
    "relay_code.other_site": QT_TRANSLATE_NOOP("Messages", "This relay code is for another site: ask the province for a code for this site."),
    "relay_code.revoked": QT_TRANSLATE_NOOP("Messages", "The province revoked this site hub: ask it for a new relay code."),
    "port.out_of_range": QT_TRANSLATE_NOOP("Messages", "Choose a port from {min} to {max} (8765 unless IT staff say otherwise)."),
    "site_hub.not_installed": QT_TRANSLATE_NOOP("Messages", "This laptop has no site hub program. IT staff: install the site hub edition of Trạm Tiêm (the installer's “This laptop is the site hub” task), then try again."),
    "site_hub.desk_not_enrolled": QT_TRANSLATE_NOOP("Messages", "This desk is not enrolled with the province yet: enroll it first; the site hub enrolls with the same province."),
    "site_hub.province_unreachable": QT_TRANSLATE_NOOP("Messages", "The province could not be reached to enroll the site hub: check the Internet line and try again. Nothing was changed."),
    "site_hub.enroll_failed": QT_TRANSLATE_NOOP("Messages", "The province did not enroll the site hub ({reason}). Nothing was changed. IT staff: see the site hub guide."),
    "site_hub.port_in_use": QT_TRANSLATE_NOOP("Messages", "Port {port} of this laptop is already in use (is a site hub already running?): stop it, or choose another port."),
    "site_hub.start_failed": QT_TRANSLATE_NOOP("Messages", "The site hub did not start ({reason}). IT staff: see its log, {log}."),
    "site_hub.not_enrolled_here": QT_TRANSLATE_NOOP("Messages", "This laptop's site hub is not enrolled yet: type the relay code from the province."),
    "site_hub.no_trust": QT_TRANSLATE_NOOP("Messages", "This desk has no way to check a site hub's identity (it was enrolled before site hubs existed). Nothing was sent and nothing is lost. IT staff: enroll the desk again, or set the site hub with its fingerprint (tramtiem site-hub set ADDRESS --fingerprint SHA256)."),
    "review.not_found": QT_TRANSLATE_NOOP("Messages", "This review item no longer exists."),
    "review.not_open": QT_TRANSLATE_NOOP("Messages", "This review item was already decided."),
    "review.bad_action": QT_TRANSLATE_NOOP("Messages", "This decision does not fit this kind of item."),
    "param.invalid": QT_TRANSLATE_NOOP("Messages", "Invalid value."),
    "param.too_long": QT_TRANSLATE_NOOP("Messages", "Too long (at most {max} characters)."),
    "sync.not_running": QT_TRANSLATE_NOOP("Messages", "Sync is not running on this station."),
    "not_found": QT_TRANSLATE_NOOP("Messages", "Not found."),
    # exchange: files, mappings, import rows
    "row.already_expected": QT_TRANSLATE_NOOP("Messages", "Already expected that day: this row adds nothing."),
    "code.unknown": QT_TRANSLATE_NOOP("Messages", "This value is not in the mapping's code list."),
    "row.duplicate_in_file": QT_TRANSLATE_NOOP("Messages", "Same person as row {first_row} of the file."),
    "id.leading_zero_restored": QT_TRANSLATE_NOOP("Messages", "Excel had dropped the leading 0 of the ID number; it was put back."),
    "phone.leading_zero_restored": QT_TRANSLATE_NOOP("Messages", "Excel had dropped the leading 0 of the phone number; it was put back."),
    "file.unreadable": QT_TRANSLATE_NOOP("Messages", "The file cannot be read (damaged, or not an Excel/CSV file)."),
    "file.bad_type": QT_TRANSLATE_NOOP("Messages", "Use an .xlsx or .csv file."),
    "file.too_large": QT_TRANSLATE_NOOP("Messages", "The file is too large (at most {max_mb} MB)."),
    "file.too_many_rows": QT_TRANSLATE_NOOP("Messages", "The file has too many rows (at most {max})."),
    "file.sheet_missing": QT_TRANSLATE_NOOP("Messages", "The workbook has no sheet named “{sheet}”."),
    "file.no_header": QT_TRANSLATE_NOOP("Messages", "The file has no header row at row {row}."),
    "file.header_missing": QT_TRANSLATE_NOOP("Messages", "The column “{header}” is missing from the file."),
    "file.legacy_encoding_suspected": QT_TRANSLATE_NOOP("Messages", "Most names look garbled: the file may be in an old Vietnamese font encoding (TCVN3/VNI). Convert it to Unicode first."),
    "range.reversed": QT_TRANSLATE_NOOP("Messages", "The first day is after the last day."),
    "mapping.invalid": QT_TRANSLATE_NOOP("Messages", "The mapping file is not valid."),
    "mapping.unreadable": QT_TRANSLATE_NOOP("Messages", "The mapping file cannot be read."),
    "mapping.not_json": QT_TRANSLATE_NOOP("Messages", "The mapping file is not JSON."),
    "mapping.bad_rows": QT_TRANSLATE_NOOP("Messages", "The mapping's header and start rows are not valid."),
    "mapping.bad_date_format": QT_TRANSLATE_NOOP("Messages", "The mapping's date format is not valid."),
    "mapping.no_columns": QT_TRANSLATE_NOOP("Messages", "The mapping has no columns."),
    "mapping.bad_column": QT_TRANSLATE_NOOP("Messages", "A column of the mapping has no header text."),
    "mapping.unknown_field": QT_TRANSLATE_NOOP("Messages", "The mapping names an unknown field ({field})."),
    "mapping.duplicate_column": QT_TRANSLATE_NOOP("Messages", "The mapping lists a field or header twice ({field})."),
    "mapping.missing_person_columns": QT_TRANSLATE_NOOP("Messages", "The mapping needs at least the name and date of birth columns."),
    "mapping.bad_codes": QT_TRANSLATE_NOOP("Messages", "A code list of the mapping is not valid."),
    "mapping.ambiguous_codes": QT_TRANSLATE_NOOP("Messages", "A code list of the mapping uses the same text twice ({field})."),
    "internal": QT_TRANSLATE_NOOP("Messages", "Something went wrong; the action was not saved. Try again."),
}

# Generic texts for free-text fields: "<field>.<problem>".
BY_PROBLEM: dict[str, str] = {
    "required": QT_TRANSLATE_NOOP("Messages", "This field is required."),
    "invalid": QT_TRANSLATE_NOOP("Messages", "This value is not valid."),
    "too_long": QT_TRANSLATE_NOOP("Messages", "Too long (at most {max} characters)."),
    "too_short": QT_TRANSLATE_NOOP("Messages", "Too short (at least {min} characters)."),
    "invalid_chars": QT_TRANSLATE_NOOP("Messages", "Remove the characters < > {{ }} $ ` ; = \\ |."),
}


CONDITIONS: dict[str, str] = {
    "pregnancy": QT_TRANSLATE_NOOP("Messages", "pregnancy"),
    "breastfeeding": QT_TRANSLATE_NOOP("Messages", "breastfeeding"),
    "anaphylaxis_covid_vaccine": QT_TRANSLATE_NOOP(
        "Messages", "anaphylaxis to a previous COVID-19 vaccine dose (same vaccine type)"),
}
_VACCINE_PARAMS = ("series_vaccine", "lot_product", "vaccine")
_DAY_PARAMS = ("expiry", "in_use_from", "build_date")


def _tr(source: str) -> str:
    return QCoreApplication.translate(CTX, source)


def _humanise(params: Mapping[str, object]) -> dict[str, object]:
    """Codes in parameters as words: vaccine codes as names, conditions, dates dd/mm/yyyy."""
    out = dict(params)
    for key in _VACCINE_PARAMS:
        code = out.get(key)
        if isinstance(code, str):
            out[key] = labels.vaccine_name(code)
    allowed = out.get("allowed")
    if isinstance(allowed, list) and all(isinstance(a, str) for a in allowed):
        out["allowed"] = ", ".join(labels.vaccine_name(a) for a in allowed)
    cond = out.get("condition")
    if isinstance(cond, str):
        out["condition"] = _tr(CONDITIONS[cond]) if cond in CONDITIONS else cond
    for key in _DAY_PARAMS:
        day = out.get(key)
        if isinstance(day, str) and len(day) == 10:
            out[key] = labels.site_date(day)
    given_at = out.get("given_at")
    if isinstance(given_at, str):
        out["given_at"] = labels.site_time(given_at, "%H:%M:%S") or given_at
    return out


def _format(template: str, params: Mapping[str, object]) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        # A translation that lost a placeholder must not crash the window.
        return template


def text_for(code: str, params: Mapping[str, object] | None = None) -> str:
    """Translated text of a core code; the code itself when unknown (never empty)."""
    params = _humanise(params or {})
    if code in MESSAGES:
        return _format(_tr(MESSAGES[code]), params)
    problem = code.rsplit(".", 1)[-1]
    if problem in BY_PROBLEM:
        return _format(_tr(BY_PROBLEM[problem]), params)
    return code


def issue_text(issue: FieldIssue) -> str:
    return text_for(issue.code, issue.params)


def error_text(exc: BaseException) -> str:
    """One line for any error a task delivered."""
    if isinstance(exc, ValidationError):
        return " ".join(issue_text(i) for i in exc.issues)
    if isinstance(exc, NeedsConfirmation):
        return " ".join(issue_text(w) for w in exc.warnings)
    if isinstance(exc, NeedsOverride):
        return " ".join([text_for(exc.code), *(issue_text(i) for i in exc.issues)])
    if isinstance(exc, PermissionDenied):
        return text_for("permission.denied")
    if isinstance(exc, NotFound | StoreError | StationError):
        return text_for(exc.code, exc.params)
    return text_for("internal")


def field_issues(exc: BaseException) -> dict[str, list[FieldIssue]]:
    """Issues grouped by field (ValidationError and NeedsConfirmation)."""
    issues: tuple[FieldIssue, ...] = ()
    if isinstance(exc, ValidationError):
        issues = exc.issues
    elif isinstance(exc, NeedsConfirmation):
        issues = exc.warnings
    out: dict[str, list[FieldIssue]] = {}
    for i in issues:
        out.setdefault(i.field, []).append(i)
    return out
