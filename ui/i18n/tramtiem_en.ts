<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>AdminWorkspace</name>
    <message>
        <source>Administration</source>
        <translation>Administration</translation>
    </message>
    <message>
        <source>Users</source>
        <translation>Users</translation>
    </message>
    <message>
        <source>Vaccine lots</source>
        <translation>Vaccine lots</translation>
    </message>
    <message>
        <source>Site hub</source>
        <translation>Site hub</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Settings</translation>
    </message>
    <message>
        <source>Admin</source>
        <translation>Admin</translation>
    </message>
    <message>
        <source>Ctrl+Tab</source>
        <translation>Ctrl+Tab</translation>
    </message>
    <message>
        <source>Next tab (users, lots, site hub, settings)</source>
        <translation>Next tab (users, lots, site hub, settings)</translation>
    </message>
    <message>
        <source>Enter</source>
        <translation>Enter</translation>
    </message>
    <message>
        <source>Save the form you are in</source>
        <translation>Save the form you are in</translation>
    </message>
    <message>
        <source>Create user</source>
        <translation>Create user</translation>
    </message>
    <message>
        <source>Activate / deactivate selected</source>
        <translation>Activate / deactivate selected</translation>
    </message>
    <message>
        <source>New user</source>
        <translation>New user</translation>
    </message>
    <message>
        <source>User name</source>
        <translation>User name</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Full name</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>Role</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Password</translation>
    </message>
    <message>
        <source>User created.</source>
        <translation>User created.</translation>
    </message>
    <message>
        <source>User updated.</source>
        <translation>User updated.</translation>
    </message>
    <message>
        <source>dd/mm/yyyy</source>
        <translation>dd/mm/yyyy</translation>
    </message>
    <message>
        <source>empty = today</source>
        <translation>empty = today</translation>
    </message>
    <message>
        <source>Add lot</source>
        <translation>Add lot</translation>
    </message>
    <message>
        <source>Lot received</source>
        <translation>Lot received</translation>
    </message>
    <message>
        <source>Vaccine</source>
        <translation>Vaccine</translation>
    </message>
    <message>
        <source>Lot number</source>
        <translation>Lot number</translation>
    </message>
    <message>
        <source>Expiry</source>
        <translation>Expiry</translation>
    </message>
    <message>
        <source>Received on</source>
        <translation>Received on</translation>
    </message>
    <message>
        <source>Doses received</source>
        <translation>Doses received</translation>
    </message>
    <message>
        <source>Interval rules</source>
        <translation>Interval rules</translation>
    </message>
    <message>
        <source>A province's decision may shorten the gap between doses (Đồng Nai: AstraZeneca from 4 weeks). Set the same on every station of the site.</source>
        <translation>A province's decision may shorten the gap between doses (Đồng Nai: AstraZeneca from 4 weeks). Set the same on every station of the site.</translation>
    </message>
    <message>
        <source>Lot saved.</source>
        <translation>Lot saved.</translation>
    </message>
    <message>
        <source>Interval rules saved.</source>
        <translation>Interval rules saved.</translation>
    </message>
    <message>
        <source>min</source>
        <translation>min</translation>
    </message>
    <message>
        <source>Save settings (Enter)</source>
        <translation>Save settings (Enter)</translation>
    </message>
    <message>
        <source>A new language applies at once; the hub address is used by the next sync.</source>
        <translation>A new language applies at once; the hub address is used by the next sync.</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Language</translation>
    </message>
    <message>
        <source>Lock after no use for</source>
        <translation>Lock after no use for</translation>
    </message>
    <message>
        <source>Hub address</source>
        <translation>Hub address</translation>
    </message>
    <message>
        <source>Settings saved.</source>
        <translation>Settings saved.</translation>
    </message>
</context>
<context>
    <name>AdverseEventDialog</name>
    <message>
        <source>Adverse event</source>
        <translation>Adverse event</translation>
    </message>
    <message>
        <source>Adverse event after vaccination</source>
        <translation>Adverse event after vaccination</translation>
    </message>
    <message>
        <source>What happened, what was done</source>
        <translation>What happened, what was done</translation>
    </message>
    <message>
        <source>Severity</source>
        <translation>Severity</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Description</translation>
    </message>
    <message>
        <source>Onset (time today)</source>
        <translation>Onset (time today)</translation>
    </message>
    <message>
        <source>Save (Ctrl+Enter)</source>
        <translation>Save (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>Cancel (Esc)</source>
        <translation>Cancel (Esc)</translation>
    </message>
</context>
<context>
    <name>ClearedModel</name>
    <message>
        <source>No.</source>
        <translation>No.</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Full name</translation>
    </message>
    <message>
        <source>Born</source>
        <translation>Born</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>ID</translation>
    </message>
</context>
<context>
    <name>CloseFormDialog</name>
    <message>
        <source>Keep editing (Esc)</source>
        <translation>Keep editing (Esc)</translation>
    </message>
    <message>
        <source>Close, keep the input</source>
        <translation>Close, keep the input</translation>
    </message>
    <message>
        <source>Discard the input</source>
        <translation>Discard the input</translation>
    </message>
</context>
<context>
    <name>ConfirmWarningsDialog</name>
    <message>
        <source>Please confirm</source>
        <translation>Please confirm</translation>
    </message>
    <message>
        <source>Check before recording:</source>
        <translation>Check before recording:</translation>
    </message>
    <message>
        <source>I have checked this and want to record anyway</source>
        <translation>I have checked this and want to record anyway</translation>
    </message>
    <message>
        <source>Record anyway</source>
        <translation>Record anyway</translation>
    </message>
    <message>
        <source>Cancel (Esc)</source>
        <translation>Cancel (Esc)</translation>
    </message>
</context>
<context>
    <name>DemoCommand</name>
    <message>
        <source>Demo mode is not part of this site build: a site laptop only talks to its real hub. To try Trạm Tiêm on throwaway demo data, run it from a source checkout: ./dev demo</source>
        <translation>Demo mode is not part of this site build: a site laptop only talks to its real hub. To try Trạm Tiêm on throwaway demo data, run it from a source checkout: ./dev demo</translation>
    </message>
</context>
<context>
    <name>EarlyEndDialog</name>
    <message>
        <source>End observation early?</source>
        <translation>End observation early?</translation>
    </message>
    <message>
        <source>{left} of observation left: the person should stay until {until}.</source>
        <translation>{left} of observation left: the person should stay until {until}.</translation>
    </message>
    <message>
        <source>Why does the observation end now? (↑ ↓ or 1–4)</source>
        <translation>Why does the observation end now? (↑ ↓ or 1–4)</translation>
    </message>
    <message>
        <source>End observation early</source>
        <translation>End observation early</translation>
    </message>
    <message>
        <source>Keep observing (Esc)</source>
        <translation>Keep observing (Esc)</translation>
    </message>
</context>
<context>
    <name>HelpOverlay</name>
    <message>
        <source>source checkout</source>
        <translation>source checkout</translation>
    </message>
    <message>
        <source>Trạm Tiêm {version} · commit {commit} · built {date}</source>
        <translation>Trạm Tiêm {version} · commit {commit} · built {date}</translation>
    </message>
    <message>
        <source>Press F1 or Esc to close</source>
        <translation>Press F1 or Esc to close</translation>
    </message>
</context>
<context>
    <name>HistoryModel</name>
    <message>
        <source>Dose</source>
        <translation>Dose</translation>
    </message>
    <message>
        <source>Vaccine</source>
        <translation>Vaccine</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Kind</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Date</translation>
    </message>
    <message>
        <source>Lot</source>
        <translation>Lot</translation>
    </message>
    <message>
        <source>Where</source>
        <translation>Where</translation>
    </message>
    <message>
        <source>here</source>
        <translation>here</translation>
    </message>
    <message>
        <source>elsewhere</source>
        <translation>elsewhere</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>VOIDED: {reason}</source>
        <translation>VOIDED: {reason}</translation>
    </message>
</context>
<context>
    <name>HitsModel</name>
    <message>
        <source>Full name</source>
        <translation>Full name</translation>
    </message>
    <message>
        <source>Born</source>
        <translation>Born</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>Phone</translation>
    </message>
    <message>
        <source>Last dose</source>
        <translation>Last dose</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>Today</translation>
    </message>
    <message>
        <source>dose {n} {vaccine} · {day}</source>
        <translation>dose {n} {vaccine} · {day}</translation>
    </message>
</context>
<context>
    <name>ImportIssuesModel</name>
    <message>
        <source>Row</source>
        <translation>Row</translation>
    </message>
    <message>
        <source>file</source>
        <translation>file</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>Result</translation>
    </message>
    <message>
        <source>Column</source>
        <translation>Column</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>Problem</translation>
    </message>
    <message>
        <source>left out</source>
        <translation>left out</translation>
    </message>
    <message>
        <source>already on the list</source>
        <translation>already on the list</translation>
    </message>
    <message>
        <source>check</source>
        <translation>check</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Full name</translation>
    </message>
    <message>
        <source>Date of birth</source>
        <translation>Date of birth</translation>
    </message>
    <message>
        <source>Sex</source>
        <translation>Sex</translation>
    </message>
    <message>
        <source>ID type</source>
        <translation>ID type</translation>
    </message>
    <message>
        <source>ID number</source>
        <translation>ID number</translation>
    </message>
    <message>
        <source>Old ID number</source>
        <translation>Old ID number</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>Phone</translation>
    </message>
    <message>
        <source>Priority group</source>
        <translation>Priority group</translation>
    </message>
    <message>
        <source>Province</source>
        <translation>Province</translation>
    </message>
    <message>
        <source>Ward</source>
        <translation>Ward</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Address</translation>
    </message>
    <message>
        <source>Occupation</source>
        <translation>Occupation</translation>
    </message>
    <message>
        <source>Health insurance</source>
        <translation>Health insurance</translation>
    </message>
    <message>
        <source>File</source>
        <translation>File</translation>
    </message>
</context>
<context>
    <name>Labels</name>
    <message>
        <source>Expected</source>
        <translation>Expected</translation>
    </message>
    <message>
        <source>Checked in</source>
        <translation>Checked in</translation>
    </message>
    <message>
        <source>Cleared</source>
        <translation>Cleared</translation>
    </message>
    <message>
        <source>Deferred</source>
        <translation>Deferred</translation>
    </message>
    <message>
        <source>Vaccinated</source>
        <translation>Vaccinated</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>Done</translation>
    </message>
    <message>
        <source>Volunteer</source>
        <translation>Volunteer</translation>
    </message>
    <message>
        <source>Clerk</source>
        <translation>Clerk</translation>
    </message>
    <message>
        <source>Screening doctor</source>
        <translation>Screening doctor</translation>
    </message>
    <message>
        <source>Supervisor</source>
        <translation>Supervisor</translation>
    </message>
    <message>
        <source>IT administrator</source>
        <translation>IT administrator</translation>
    </message>
    <message>
        <source>System</source>
        <translation>System</translation>
    </message>
    <message>
        <source>primary</source>
        <translation>primary</translation>
    </message>
    <message>
        <source>additional</source>
        <translation>additional</translation>
    </message>
    <message>
        <source>booster</source>
        <translation>booster</translation>
    </message>
    <message>
        <source>Male</source>
        <translation>Male</translation>
    </message>
    <message>
        <source>Female</source>
        <translation>Female</translation>
    </message>
    <message>
        <source>No reaction</source>
        <translation>No reaction</translation>
    </message>
    <message>
        <source>Common reaction</source>
        <translation>Common reaction</translation>
    </message>
    <message>
        <source>Serious reaction</source>
        <translation>Serious reaction</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>Other</translation>
    </message>
    <message>
        <source>CCCD (12 digits)</source>
        <translation>CCCD (12 digits)</translation>
    </message>
    <message>
        <source>CMND (9 or 12 digits)</source>
        <translation>CMND (9 or 12 digits)</translation>
    </message>
    <message>
        <source>Passport</source>
        <translation>Passport</translation>
    </message>
    <message>
        <source>No document</source>
        <translation>No document</translation>
    </message>
    <message>
        <source>Left upper arm</source>
        <translation>Left upper arm</translation>
    </message>
    <message>
        <source>Right upper arm</source>
        <translation>Right upper arm</translation>
    </message>
    <message>
        <source>Left thigh</source>
        <translation>Left thigh</translation>
    </message>
    <message>
        <source>Right thigh</source>
        <translation>Right thigh</translation>
    </message>
    <message>
        <source>Walk-in</source>
        <translation>Walk-in</translation>
    </message>
    <message>
        <source>Pre-registered</source>
        <translation>Pre-registered</translation>
    </message>
    <message>
        <source>List</source>
        <translation>List</translation>
    </message>
    <message>
        <source>Line: ?</source>
        <translation>Line: ?</translation>
    </message>
    <message>
        <source>No hub set</source>
        <translation>No hub set</translation>
    </message>
    <message>
        <source>Online</source>
        <translation>Online</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>Offline</translation>
    </message>
    <message>
        <source>Syncing…</source>
        <translation>Syncing…</translation>
    </message>
    <message>
        <source>Sync error</source>
        <translation>Sync error</translation>
    </message>
    <message>
        <source>Hub certificate problem</source>
        <translation>Hub certificate problem</translation>
    </message>
    <message>
        <source>Possible duplicate person</source>
        <translation>Possible duplicate person</translation>
    </message>
    <message>
        <source>Possible duplicate dose</source>
        <translation>Possible duplicate dose</translation>
    </message>
    <message>
        <source>Conflicting edits</source>
        <translation>Conflicting edits</translation>
    </message>
    <message>
        <source>Edit after void</source>
        <translation>Edit after void</translation>
    </message>
    <message>
        <source>Clock difference</source>
        <translation>Clock difference</translation>
    </message>
    <message>
        <source>Merged person</source>
        <translation>Merged person</translation>
    </message>
    <message>
        <source>Merge into one person</source>
        <translation>Merge into one person</translation>
    </message>
    <message>
        <source>Different people: keep both</source>
        <translation>Different people: keep both</translation>
    </message>
    <message>
        <source>Void one dose</source>
        <translation>Void one dose</translation>
    </message>
    <message>
        <source>Keep the current value</source>
        <translation>Keep the current value</translation>
    </message>
    <message>
        <source>Take the other value</source>
        <translation>Take the other value</translation>
    </message>
    <message>
        <source>Undo the merge</source>
        <translation>Undo the merge</translation>
    </message>
    <message>
        <source>The doctor allowed it</source>
        <translation>The doctor allowed it</translation>
    </message>
    <message>
        <source>Left against advice</source>
        <translation>Left against advice</translation>
    </message>
    <message>
        <source>Taken for medical care</source>
        <translation>Taken for medical care</translation>
    </message>
    <message>
        <source>Other reason</source>
        <translation>Other reason</translation>
    </message>
    <message>
        <source>High</source>
        <translation>High</translation>
    </message>
    <message>
        <source>Low</source>
        <translation>Low</translation>
    </message>
    <message>
        <source>Registration</source>
        <translation>Registration</translation>
    </message>
    <message>
        <source>Registration for a day</source>
        <translation>Registration for a day</translation>
    </message>
    <message>
        <source>Edit of a person</source>
        <translation>Edit of a person</translation>
    </message>
    <message>
        <source>Check-in</source>
        <translation>Check-in</translation>
    </message>
    <message>
        <source>Screening</source>
        <translation>Screening</translation>
    </message>
    <message>
        <source>Dose</source>
        <translation>Dose</translation>
    </message>
    <message>
        <source>Void of a dose</source>
        <translation>Void of a dose</translation>
    </message>
    <message>
        <source>End of observation</source>
        <translation>End of observation</translation>
    </message>
    <message>
        <source>Adverse event</source>
        <translation>Adverse event</translation>
    </message>
    <message>
        <source>Vaccine lot</source>
        <translation>Vaccine lot</translation>
    </message>
    <message>
        <source>User</source>
        <translation>User</translation>
    </message>
    <message>
        <source>Review decision</source>
        <translation>Review decision</translation>
    </message>
</context>
<context>
    <name>LoginPanel</name>
    <message>
        <source>User name</source>
        <translation>User name</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Password</translation>
    </message>
    <message>
        <source>Log in (Enter)</source>
        <translation>Log in (Enter)</translation>
    </message>
</context>
<context>
    <name>LoginWindow</name>
    <message>
        <source>Trạm Tiêm — log in</source>
        <translation>Trạm Tiêm — log in</translation>
    </message>
    <message>
        <source>Trạm Tiêm</source>
        <translation>Trạm Tiêm</translation>
    </message>
    <message>
        <source>Vaccination station — works without the internet</source>
        <translation>Vaccination station — works without the internet</translation>
    </message>
    <message>
        <source>Opening the station…</source>
        <translation>Opening the station…</translation>
    </message>
    <message>
        <source>Site {site}</source>
        <translation>Site {site}</translation>
    </message>
    <message>
        <source>The station could not be opened</source>
        <translation>The station could not be opened</translation>
    </message>
</context>
<context>
    <name>LotsModel</name>
    <message>
        <source>Vaccine</source>
        <translation>Vaccine</translation>
    </message>
    <message>
        <source>Lot</source>
        <translation>Lot</translation>
    </message>
    <message>
        <source>Expiry</source>
        <translation>Expiry</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Received</translation>
    </message>
    <message>
        <source>Doses received</source>
        <translation>Doses received</translation>
    </message>
    <message>
        <source>Used</source>
        <translation>Used</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Active</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>yes</translation>
    </message>
    <message>
        <source>no</source>
        <translation>no</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Trạm Tiêm — {site}</source>
        <translation>Trạm Tiêm — {site}</translation>
    </message>
    <message>
        <source>Help (F1)</source>
        <translation>Help (F1)</translation>
    </message>
    <message>
        <source>Lock (Ctrl+L)</source>
        <translation>Lock (Ctrl+L)</translation>
    </message>
    <message>
        <source>Log out</source>
        <translation>Log out</translation>
    </message>
    <message>
        <source>Locked</source>
        <translation>Locked</translation>
    </message>
    <message>
        <source>The screen locked after a pause. Enter your password to continue, or log in as another user.</source>
        <translation>The screen locked after a pause. Enter your password to continue, or log in as another user.</translation>
    </message>
    <message>
        <source>Your role does not use this screen.</source>
        <translation>Your role does not use this screen.</translation>
    </message>
    <message>
        <source>Card scanned, but your role has no reception screen.</source>
        <translation>Card scanned, but your role has no reception screen.</translation>
    </message>
    <message>
        <source>F1</source>
        <translation>F1</translation>
    </message>
    <message>
        <source>Show or hide this help</source>
        <translation>Show or hide this help</translation>
    </message>
    <message>
        <source>Ctrl+F</source>
        <translation>Ctrl+F</translation>
    </message>
    <message>
        <source>Search a person (reception)</source>
        <translation>Search a person (reception)</translation>
    </message>
    <message>
        <source>Ctrl+L</source>
        <translation>Ctrl+L</translation>
    </message>
    <message>
        <source>Lock the screen</source>
        <translation>Lock the screen</translation>
    </message>
    <message>
        <source>Tab / Shift+Tab</source>
        <translation>Tab / Shift+Tab</translation>
    </message>
    <message>
        <source>Next / previous field</source>
        <translation>Next / previous field</translation>
    </message>
    <message>
        <source>Everywhere</source>
        <translation>Everywhere</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>Keyboard shortcuts</translation>
    </message>
    <message>
        <source>The screen is locked. Enter your password to continue, or log in as another user.</source>
        <translation>The screen is locked. Enter your password to continue, or log in as another user.</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <source>Enter the full name.</source>
        <translation>Enter the full name.</translation>
    </message>
    <message>
        <source>The name is too long (at most {max} characters).</source>
        <translation>The name is too long (at most {max} characters).</translation>
    </message>
    <message>
        <source>The name contains characters that are not letters.</source>
        <translation>The name contains characters that are not letters.</translation>
    </message>
    <message>
        <source>The name is too short.</source>
        <translation>The name is too short.</translation>
    </message>
    <message>
        <source>Enter the date (dd/mm/yyyy).</source>
        <translation>Enter the date (dd/mm/yyyy).</translation>
    </message>
    <message>
        <source>Write the date as dd/mm/yyyy (or the year alone for a birth date).</source>
        <translation>Write the date as dd/mm/yyyy (or the year alone for a birth date).</translation>
    </message>
    <message>
        <source>This date does not exist.</source>
        <translation>This date does not exist.</translation>
    </message>
    <message>
        <source>The date is in the future.</source>
        <translation>The date is in the future.</translation>
    </message>
    <message>
        <source>The year must be {min_year} or later.</source>
        <translation>The year must be {min_year} or later.</translation>
    </message>
    <message>
        <source>Choose the sex.</source>
        <translation>Choose the sex.</translation>
    </message>
    <message>
        <source>Choose male or female.</source>
        <translation>Choose male or female.</translation>
    </message>
    <message>
        <source>Enter the ID number (or choose “no document”).</source>
        <translation>Enter the ID number (or choose “no document”).</translation>
    </message>
    <message>
        <source>A CCCD number has 12 digits (you typed {length}).</source>
        <translation>A CCCD number has 12 digits (you typed {length}).</translation>
    </message>
    <message>
        <source>A passport number has 6 to 12 letters and digits.</source>
        <translation>A passport number has 6 to 12 letters and digits.</translation>
    </message>
    <message>
        <source>“No document” is chosen: leave the number empty.</source>
        <translation>“No document” is chosen: leave the number empty.</translation>
    </message>
    <message>
        <source>The first 3 digits are not a known province code: check the number.</source>
        <translation>The first 3 digits are not a known province code: check the number.</translation>
    </message>
    <message>
        <source>The ID number does not match the century of birth: check both.</source>
        <translation>The ID number does not match the century of birth: check both.</translation>
    </message>
    <message>
        <source>The ID number does not match the year of birth: check both.</source>
        <translation>The ID number does not match the year of birth: check both.</translation>
    </message>
    <message>
        <source>The ID number does not match the sex: check both.</source>
        <translation>The ID number does not match the sex: check both.</translation>
    </message>
    <message>
        <source>Choose the kind of document.</source>
        <translation>Choose the kind of document.</translation>
    </message>
    <message>
        <source>Enter a mobile phone number.</source>
        <translation>Enter a mobile phone number.</translation>
    </message>
    <message>
        <source>A mobile number has 10 digits and starts with 03, 05, 07, 08 or 09.</source>
        <translation>A mobile number has 10 digits and starts with 03, 05, 07, 08 or 09.</translation>
    </message>
    <message>
        <source>The phone number is too long.</source>
        <translation>The phone number is too long.</translation>
    </message>
    <message>
        <source>Old 11-digit number converted ({from} → {to}).</source>
        <translation>Old 11-digit number converted ({from} → {to}).</translation>
    </message>
    <message>
        <source>Unusual prefix {prefix}: check the number.</source>
        <translation>Unusual prefix {prefix}: check the number.</translation>
    </message>
    <message>
        <source>The health insurance number is not valid.</source>
        <translation>The health insurance number is not valid.</translation>
    </message>
    <message>
        <source>Choose the priority group.</source>
        <translation>Choose the priority group.</translation>
    </message>
    <message>
        <source>Choose the priority group from the list.</source>
        <translation>Choose the priority group from the list.</translation>
    </message>
    <message>
        <source>Priority groups are numbered {min} to {max}.</source>
        <translation>Priority groups are numbered {min} to {max}.</translation>
    </message>
    <message>
        <source>Choose the province from the list.</source>
        <translation>Choose the province from the list.</translation>
    </message>
    <message>
        <source>Choose the ward from the list.</source>
        <translation>Choose the ward from the list.</translation>
    </message>
    <message>
        <source>This ward is not in the chosen province.</source>
        <translation>This ward is not in the chosen province.</translation>
    </message>
    <message>
        <source>This is not a CCCD QR code (too few fields). Scan again.</source>
        <translation>This is not a CCCD QR code (too few fields). Scan again.</translation>
    </message>
    <message>
        <source>The scanned text is too long to be a CCCD QR code.</source>
        <translation>The scanned text is too long to be a CCCD QR code.</translation>
    </message>
    <message>
        <source>The QR code has no valid 12-digit ID number. Scan again.</source>
        <translation>The QR code has no valid 12-digit ID number. Scan again.</translation>
    </message>
    <message>
        <source>The name in the QR code could not be read. Scan again or type it.</source>
        <translation>The name in the QR code could not be read. Scan again or type it.</translation>
    </message>
    <message>
        <source>The date of birth in the QR code could not be read.</source>
        <translation>The date of birth in the QR code could not be read.</translation>
    </message>
    <message>
        <source>The sex in the QR code could not be read.</source>
        <translation>The sex in the QR code could not be read.</translation>
    </message>
    <message>
        <source>The old ID number in the QR code was ignored.</source>
        <translation>The old ID number in the QR code was ignored.</translation>
    </message>
    <message>
        <source>The issue date in the QR code was ignored.</source>
        <translation>The issue date in the QR code was ignored.</translation>
    </message>
    <message>
        <source>A person with this ID number is already registered.</source>
        <translation>A person with this ID number is already registered.</translation>
    </message>
    <message>
        <source>This person was not found.</source>
        <translation>This person was not found.</translation>
    </message>
    <message>
        <source>This record was merged or retired.</source>
        <translation>This record was merged or retired.</translation>
    </message>
    <message>
        <source>Nothing was changed.</source>
        <translation>Nothing was changed.</translation>
    </message>
    <message>
        <source>This field cannot be changed here.</source>
        <translation>This field cannot be changed here.</translation>
    </message>
    <message>
        <source>This person is already on today's list.</source>
        <translation>This person is already on today's list.</translation>
    </message>
    <message>
        <source>The registration was not found.</source>
        <translation>The registration was not found.</translation>
    </message>
    <message>
        <source>This registration belongs to another site.</source>
        <translation>This registration belongs to another site.</translation>
    </message>
    <message>
        <source>This registration is for another day.</source>
        <translation>This registration is for another day.</translation>
    </message>
    <message>
        <source>Already checked in.</source>
        <translation>Already checked in.</translation>
    </message>
    <message>
        <source>The day is in the past.</source>
        <translation>The day is in the past.</translation>
    </message>
    <message>
        <source>Check the person in before screening.</source>
        <translation>Check the person in before screening.</translation>
    </message>
    <message>
        <source>This person was already vaccinated today.</source>
        <translation>This person was already vaccinated today.</translation>
    </message>
    <message>
        <source>Answer this question.</source>
        <translation>Answer this question.</translation>
    </message>
    <message>
        <source>Answer yes or no.</source>
        <translation>Answer yes or no.</translation>
    </message>
    <message>
        <source>Unknown question.</source>
        <translation>Unknown question.</translation>
    </message>
    <message>
        <source>Enter a number.</source>
        <translation>Enter a number.</translation>
    </message>
    <message>
        <source>Check the value (expected {min} to {max}).</source>
        <translation>Check the value (expected {min} to {max}).</translation>
    </message>
    <message>
        <source>Choose the outcome.</source>
        <translation>Choose the outcome.</translation>
    </message>
    <message>
        <source>Unknown screening form.</source>
        <translation>Unknown screening form.</translation>
    </message>
    <message>
        <source>Screening is required before the dose.</source>
        <translation>Screening is required before the dose.</translation>
    </message>
    <message>
        <source>The screening did not clear this person for vaccination.</source>
        <translation>The screening did not clear this person for vaccination.</translation>
    </message>
    <message>
        <source>Only {days} days since the last dose (minimum {min_days}).</source>
        <translation>Only {days} days since the last dose (minimum {min_days}).</translation>
    </message>
    <message>
        <source>{days} days since the last dose (recommended at most {max_days}).</source>
        <translation>{days} days since the last dose (recommended at most {max_days}).</translation>
    </message>
    <message>
        <source>A CMND number has 9 or 12 digits (you typed {length}).</source>
        <translation>A CMND number has 9 or 12 digits (you typed {length}).</translation>
    </message>
    <message>
        <source>A landline: it is kept, but it cannot receive an SMS. Add a mobile number if the person has one.</source>
        <translation>A landline: it is kept, but it cannot receive an SMS. Add a mobile number if the person has one.</translation>
    </message>
    <message>
        <source>This question does not apply to this person.</source>
        <translation>This question does not apply to this person.</translation>
    </message>
    <message>
        <source>No screening form covers this person's age today (COVID-19 forms start at age 5).</source>
        <translation>No screening form covers this person's age today (COVID-19 forms start at age 5).</translation>
    </message>
    <message>
        <source>This screening form is not in use today.</source>
        <translation>This screening form is not in use today.</translation>
    </message>
    <message>
        <source>This screening form is for other ages.</source>
        <translation>This screening form is for other ages.</translation>
    </message>
    <message>
        <source>No rule allows this vaccine after {series_vaccine} on this day, at this age.</source>
        <translation>No rule allows this vaccine after {series_vaccine} on this day, at this age.</translation>
    </message>
    <message>
        <source>Another vaccine after {series_vaccine} is allowed only when {series_vaccine} is not available: confirm it is not.</source>
        <translation>Another vaccine after {series_vaccine} is allowed only when {series_vaccine} is not available: confirm it is not.</translation>
    </message>
    <message>
        <source>{days} days since the last dose: allowed here, but shorter than the recommended {recommended_days}.</source>
        <translation>{days} days since the last dose: allowed here, but shorter than the recommended {recommended_days}.</translation>
    </message>
    <message>
        <source>This vaccine is for people aged {min_age} and over; this person is younger.</source>
        <translation>This vaccine is for people aged {min_age} and over; this person is younger.</translation>
    </message>
    <message>
        <source>This vaccine is for people up to age {max_age}; this person is older.</source>
        <translation>This vaccine is for people up to age {max_age}; this person is older.</translation>
    </message>
    <message>
        <source>Only the birth year is known: check that the person's age fits this vaccine.</source>
        <translation>Only the birth year is known: check that the person's age fits this vaccine.</translation>
    </message>
    <message>
        <source>Contraindicated by today's screening: {condition}.</source>
        <translation>Contraindicated by today's screening: {condition}.</translation>
    </message>
    <message>
        <source>This vaccine was not in use before {in_use_from}: check the date.</source>
        <translation>This vaccine was not in use before {in_use_from}: check the date.</translation>
    </message>
    <message>
        <source>The date is before the person's birth.</source>
        <translation>The date is before the person's birth.</translation>
    </message>
    <message>
        <source>Only a supervisor can let this dose through, with a reason.</source>
        <translation>Only a supervisor can let this dose through, with a reason.</translation>
    </message>
    <message>
        <source>Unknown interval profile.</source>
        <translation>Unknown interval profile.</translation>
    </message>
    <message>
        <source>Dose number differs from the history (expected dose {expected}).</source>
        <translation>Dose number differs from the history (expected dose {expected}).</translation>
    </message>
    <message>
        <source>This dose number is not possible.</source>
        <translation>This dose number is not possible.</translation>
    </message>
    <message>
        <source>Unexpected kind of dose for this history.</source>
        <translation>Unexpected kind of dose for this history.</translation>
    </message>
    <message>
        <source>A dose was already given on this day.</source>
        <translation>A dose was already given on this day.</translation>
    </message>
    <message>
        <source>Another desk (…{desk}) already gave this person {vaccine} today at {given_at}. Nothing was saved: check with that desk before giving a dose.</source>
        <translation>Another desk (…{desk}) already gave this person {vaccine} today at {given_at}. Nothing was saved: check with that desk before giving a dose.</translation>
    </message>
    <message>
        <source>Choose primary, additional or booster.</source>
        <translation>Choose primary, additional or booster.</translation>
    </message>
    <message>
        <source>Unknown vaccine.</source>
        <translation>Unknown vaccine.</translation>
    </message>
    <message>
        <source>The dose was not found.</source>
        <translation>The dose was not found.</translation>
    </message>
    <message>
        <source>This dose is already voided.</source>
        <translation>This dose is already voided.</translation>
    </message>
    <message>
        <source>This dose was voided.</source>
        <translation>This dose was voided.</translation>
    </message>
    <message>
        <source>The observation of this dose is already finished.</source>
        <translation>The observation of this dose is already finished.</translation>
    </message>
    <message>
        <source>{minutes_left} min of observation left: choose why it ends early.</source>
        <translation>{minutes_left} min of observation left: choose why it ends early.</translation>
    </message>
    <message>
        <source>Choose a reason from the list.</source>
        <translation>Choose a reason from the list.</translation>
    </message>
    <message>
        <source>The time of the dose is not valid.</source>
        <translation>The time of the dose is not valid.</translation>
    </message>
    <message>
        <source>The time of the dose is in the future.</source>
        <translation>The time of the dose is in the future.</translation>
    </message>
    <message>
        <source>The time of the dose is before {build_date}: check the computer's clock.</source>
        <translation>The time of the dose is before {build_date}: check the computer's clock.</translation>
    </message>
    <message>
        <source>The dose is entered on a later day.</source>
        <translation>The dose is entered on a later day.</translation>
    </message>
    <message>
        <source>Choose the injection site.</source>
        <translation>Choose the injection site.</translation>
    </message>
    <message>
        <source>Choose the vaccine lot for this session first (F8).</source>
        <translation>Choose the vaccine lot for this session first (F8).</translation>
    </message>
    <message>
        <source>The lot was not found at this site.</source>
        <translation>The lot was not found at this site.</translation>
    </message>
    <message>
        <source>This lot is not active.</source>
        <translation>This lot is not active.</translation>
    </message>
    <message>
        <source>This lot has expired ({expiry}).</source>
        <translation>This lot has expired ({expiry}).</translation>
    </message>
    <message>
        <source>This lot expires soon ({expiry}).</source>
        <translation>This lot expires soon ({expiry}).</translation>
    </message>
    <message>
        <source>This lot is already registered.</source>
        <translation>This lot is already registered.</translation>
    </message>
    <message>
        <source>The vaccine does not match the lot.</source>
        <translation>The vaccine does not match the lot.</translation>
    </message>
    <message>
        <source>Choose the vaccine.</source>
        <translation>Choose the vaccine.</translation>
    </message>
    <message>
        <source>This product comes from the vials of {lot_product}: register the lot as {lot_product}.</source>
        <translation>This product comes from the vials of {lot_product}: register the lot as {lot_product}.</translation>
    </message>
    <message>
        <source>Enter the lot number.</source>
        <translation>Enter the lot number.</translation>
    </message>
    <message>
        <source>The lot number is too long (at most {max}).</source>
        <translation>The lot number is too long (at most {max}).</translation>
    </message>
    <message>
        <source>Use letters, digits, “.”, “/” or “-” only.</source>
        <translation>Use letters, digits, “.”, “/” or “-” only.</translation>
    </message>
    <message>
        <source>Enter the number of doses received.</source>
        <translation>Enter the number of doses received.</translation>
    </message>
    <message>
        <source>Enter a whole number.</source>
        <translation>Enter a whole number.</translation>
    </message>
    <message>
        <source>Enter a number from {min} to {max}.</source>
        <translation>Enter a number from {min} to {max}.</translation>
    </message>
    <message>
        <source>Choose the severity.</source>
        <translation>Choose the severity.</translation>
    </message>
    <message>
        <source>Write the time as HH:MM.</source>
        <translation>Write the time as HH:MM.</translation>
    </message>
    <message>
        <source>The onset is in the future.</source>
        <translation>The onset is in the future.</translation>
    </message>
    <message>
        <source>The onset is before the dose.</source>
        <translation>The onset is before the dose.</translation>
    </message>
    <message>
        <source>Wrong user name or password.</source>
        <translation>Wrong user name or password.</translation>
    </message>
    <message>
        <source>Too many attempts: wait {seconds} seconds.</source>
        <translation>Too many attempts: wait {seconds} seconds.</translation>
    </message>
    <message>
        <source>Enter a user name.</source>
        <translation>Enter a user name.</translation>
    </message>
    <message>
        <source>3–32 lower-case letters, digits, “.”, “_” or “-”.</source>
        <translation>3–32 lower-case letters, digits, “.”, “_” or “-”.</translation>
    </message>
    <message>
        <source>This user name is taken.</source>
        <translation>This user name is taken.</translation>
    </message>
    <message>
        <source>Enter a password.</source>
        <translation>Enter a password.</translation>
    </message>
    <message>
        <source>At least {min} characters.</source>
        <translation>At least {min} characters.</translation>
    </message>
    <message>
        <source>At most {max} characters.</source>
        <translation>At most {max} characters.</translation>
    </message>
    <message>
        <source>The current password is wrong.</source>
        <translation>The current password is wrong.</translation>
    </message>
    <message>
        <source>Choose a role.</source>
        <translation>Choose a role.</translation>
    </message>
    <message>
        <source>The user was not found.</source>
        <translation>The user was not found.</translation>
    </message>
    <message>
        <source>You cannot deactivate yourself.</source>
        <translation>You cannot deactivate yourself.</translation>
    </message>
    <message>
        <source>Your role may not do this.</source>
        <translation>Your role may not do this.</translation>
    </message>
    <message>
        <source>The computer's date is before {build_date}: set the clock.</source>
        <translation>The computer's date is before {build_date}: set the clock.</translation>
    </message>
    <message>
        <source>The computer's clock went back {minutes} minutes: check it.</source>
        <translation>The computer's clock went back {minutes} minutes: check it.</translation>
    </message>
    <message>
        <source>The computer's clock differs from the hub by {minutes} minutes.</source>
        <translation>The computer's clock differs from the hub by {minutes} minutes.</translation>
    </message>
    <message>
        <source>This computer is not set up as a station yet (run “tramtiem init” or “tramtiem demo”).</source>
        <translation>This computer is not set up as a station yet (run “tramtiem init” or “tramtiem demo”).</translation>
    </message>
    <message>
        <source>The station database file is missing.</source>
        <translation>The station database file is missing.</translation>
    </message>
    <message>
        <source>The station's settings file is damaged.</source>
        <translation>The station's settings file is damaged.</translation>
    </message>
    <message>
        <source>The system keyring is not available.</source>
        <translation>The system keyring is not available.</translation>
    </message>
    <message>
        <source>The database key is missing from the keyring (restore it with the recovery code).</source>
        <translation>The database key is missing from the keyring (restore it with the recovery code).</translation>
    </message>
    <message>
        <source>The database key does not open this database.</source>
        <translation>The database key does not open this database.</translation>
    </message>
    <message>
        <source>The database was written by a newer version of Trạm Tiêm.</source>
        <translation>The database was written by a newer version of Trạm Tiêm.</translation>
    </message>
    <message>
        <source>The database needs an upgrade.</source>
        <translation>The database needs an upgrade.</translation>
    </message>
    <message>
        <source>Choose a language.</source>
        <translation>Choose a language.</translation>
    </message>
    <message>
        <source>Between 1 and 120 minutes.</source>
        <translation>Between 1 and 120 minutes.</translation>
    </message>
    <message>
        <source>Write the address as http://host:port or https://host.</source>
        <translation>Write the address as http://host:port or https://host.</translation>
    </message>
    <message>
        <source>Refused by the hub.</source>
        <translation>Refused by the hub.</translation>
    </message>
    <message>
        <source>This concerns another site's records.</source>
        <translation>This concerns another site's records.</translation>
    </message>
    <message>
        <source>The hub does not know this user at this site.</source>
        <translation>The hub does not know this user at this site.</translation>
    </message>
    <message>
        <source>Recorded by a user who had been deactivated.</source>
        <translation>Recorded by a user who had been deactivated.</translation>
    </message>
    <message>
        <source>This user's role may not do this.</source>
        <translation>This user's role may not do this.</translation>
    </message>
    <message>
        <source>The staff member named does not match the user who recorded it.</source>
        <translation>The staff member named does not match the user who recorded it.</translation>
    </message>
    <message>
        <source>The hub refused a value of this record.</source>
        <translation>The hub refused a value of this record.</translation>
    </message>
    <message>
        <source>The hub does not know this lot.</source>
        <translation>The hub does not know this lot.</translation>
    </message>
    <message>
        <source>The lot is of another vaccine.</source>
        <translation>The lot is of another vaccine.</translation>
    </message>
    <message>
        <source>Too many look-ups from this station; try again in a few minutes.</source>
        <translation>Too many look-ups from this station; try again in a few minutes.</translation>
    </message>
    <message>
        <source>The hub is busy; it will be tried again.</source>
        <translation>The hub is busy; it will be tried again.</translation>
    </message>
    <message>
        <source>This person is already at the hub.</source>
        <translation>This person is already at the hub.</translation>
    </message>
    <message>
        <source>The hub does not know this person.</source>
        <translation>The hub does not know this person.</translation>
    </message>
    <message>
        <source>The hub does not know this registration.</source>
        <translation>The hub does not know this registration.</translation>
    </message>
    <message>
        <source>This screening is already at the hub.</source>
        <translation>This screening is already at the hub.</translation>
    </message>
    <message>
        <source>This dose is already at the hub.</source>
        <translation>This dose is already at the hub.</translation>
    </message>
    <message>
        <source>The hub does not know this dose.</source>
        <translation>The hub does not know this dose.</translation>
    </message>
    <message>
        <source>This reaction is already at the hub.</source>
        <translation>This reaction is already at the hub.</translation>
    </message>
    <message>
        <source>The hub does not know the dose this reaction is recorded for.</source>
        <translation>The hub does not know the dose this reaction is recorded for.</translation>
    </message>
    <message>
        <source>The hub does not know this review item.</source>
        <translation>The hub does not know this review item.</translation>
    </message>
    <message>
        <source>This review item changed in the meantime; look at it again.</source>
        <translation>This review item changed in the meantime; look at it again.</translation>
    </message>
    <message>
        <source>This decision is missing a value it needs.</source>
        <translation>This decision is missing a value it needs.</translation>
    </message>
    <message>
        <source>The record does not match its own id (a fault in this station's software).</source>
        <translation>The record does not match its own id (a fault in this station's software).</translation>
    </message>
    <message>
        <source>Another station already sent a change with this id.</source>
        <translation>Another station already sent a change with this id.</translation>
    </message>
    <message>
        <source>The card was not read: the Vietnamese typing program (Unikey or EVKey) changed what the scanner typed. Switch it to English: click its icon by the clock until it shows E (or press its switch keys, Ctrl+Shift or Alt+Z), then scan the card again.</source>
        <translation>The card was not read: the Vietnamese typing program (Unikey or EVKey) changed what the scanner typed. Switch it to English: click its icon by the clock until it shows E (or press its switch keys, Ctrl+Shift or Alt+Z), then scan the card again.</translation>
    </message>
    <message>
        <source>The hub's certificate is issued by an authority this computer does not trust (a private CA, or an antivirus that scans HTTPS). Nothing is lost: records wait here. IT staff: install the CA certificate in Windows (Trusted Root Certification Authorities), or set TRAMTIEM_CA_FILE to a copy of it; see the IT guide.</source>
        <translation>The hub's certificate is issued by an authority this computer does not trust (a private CA, or an antivirus that scans HTTPS). Nothing is lost: records wait here. IT staff: install the CA certificate in Windows (Trusted Root Certification Authorities), or set TRAMTIEM_CA_FILE to a copy of it; see the IT guide.</translation>
    </message>
    <message>
        <source>The hub's certificate has expired, or this computer's date is wrong. Nothing is lost: records wait here. Check the clock, then ask the hub's administrator to renew the certificate.</source>
        <translation>The hub's certificate has expired, or this computer's date is wrong. Nothing is lost: records wait here. Check the clock, then ask the hub's administrator to renew the certificate.</translation>
    </message>
    <message>
        <source>The hub's certificate is for another name than the address this station uses. Nothing is lost: records wait here. IT staff: enroll with the name in the certificate.</source>
        <translation>The hub's certificate is for another name than the address this station uses. Nothing is lost: records wait here. IT staff: enroll with the name in the certificate.</translation>
    </message>
    <message>
        <source>The secure connection to the hub failed. Nothing is lost: records wait here. IT staff: check the hub address (https://) and any proxy or antivirus in between.</source>
        <translation>The secure connection to the hub failed. Nothing is lost: records wait here. IT staff: check the hub address (https://) and any proxy or antivirus in between.</translation>
    </message>
    <message>
        <source>This is not your site's hub: its certificate is not the one the province issued for this site. Nothing was sent to it and nothing is lost: records wait here. IT staff: check the site hub's address.</source>
        <translation>This is not your site's hub: its certificate is not the one the province issued for this site. Nothing was sent to it and nothing is lost: records wait here. IT staff: check the site hub's address.</translation>
    </message>
    <message>
        <source>The province has revoked this site hub's certificate (a site hub that was replaced, lost or stolen). Nothing was sent to it and nothing is lost: records go by the province link. IT staff: turn that machine off, or set up the new site hub.</source>
        <translation>The province has revoked this site hub's certificate (a site hub that was replaced, lost or stolen). Nothing was sent to it and nothing is lost: records go by the province link. IT staff: turn that machine off, or set up the new site hub.</translation>
    </message>
    <message>
        <source>No site hub of this site answered on the LAN. Nothing is lost: records wait here and go by the province link when it is up. IT staff: check that the site hub is on, or type its address (tramtiem site-hub set ADDRESS).</source>
        <translation>No site hub of this site answered on the LAN. Nothing is lost: records wait here and go by the province link when it is up. IT staff: check that the site hub is on, or type its address (tramtiem site-hub set ADDRESS).</translation>
    </message>
    <message>
        <source>Type the relay code the province made for this site (12 letters and digits, e.g. ABCD-EFGH-JKMN).</source>
        <translation>Type the relay code the province made for this site (12 letters and digits, e.g. ABCD-EFGH-JKMN).</translation>
    </message>
    <message>
        <source>A relay code is 12 letters and digits, e.g. ABCD-EFGH-JKMN: check what was typed.</source>
        <translation>A relay code is 12 letters and digits, e.g. ABCD-EFGH-JKMN: check what was typed.</translation>
    </message>
    <message>
        <source>The province does not know this relay code: check it, or ask the province for a new one.</source>
        <translation>The province does not know this relay code: check it, or ask the province for a new one.</translation>
    </message>
    <message>
        <source>This relay code was already used: ask the province for a new one.</source>
        <translation>This relay code was already used: ask the province for a new one.</translation>
    </message>
    <message>
        <source>This relay code has expired (a code lasts 48 hours): ask the province for a new one.</source>
        <translation>This relay code has expired (a code lasts 48 hours): ask the province for a new one.</translation>
    </message>
    <message>
        <source>This relay code is for another site: ask the province for a code for this site.</source>
        <translation>This relay code is for another site: ask the province for a code for this site.</translation>
    </message>
    <message>
        <source>The province revoked this site hub: ask it for a new relay code.</source>
        <translation>The province revoked this site hub: ask it for a new relay code.</translation>
    </message>
    <message>
        <source>Choose a port from {min} to {max} (8765 unless IT staff say otherwise).</source>
        <translation>Choose a port from {min} to {max} (8765 unless IT staff say otherwise).</translation>
    </message>
    <message>
        <source>This laptop has no site hub program. IT staff: install the site hub edition of Trạm Tiêm (the installer's “This laptop is the site hub” task), then try again.</source>
        <translation>This laptop has no site hub program. IT staff: install the site hub edition of Trạm Tiêm (the installer's “This laptop is the site hub” task), then try again.</translation>
    </message>
    <message>
        <source>This desk is not enrolled with the province yet: enroll it first; the site hub enrolls with the same province.</source>
        <translation>This desk is not enrolled with the province yet: enroll it first; the site hub enrolls with the same province.</translation>
    </message>
    <message>
        <source>The province could not be reached to enroll the site hub: check the Internet line and try again. Nothing was changed.</source>
        <translation>The province could not be reached to enroll the site hub: check the Internet line and try again. Nothing was changed.</translation>
    </message>
    <message>
        <source>The province did not enroll the site hub ({reason}). Nothing was changed. IT staff: see the site hub guide.</source>
        <translation>The province did not enroll the site hub ({reason}). Nothing was changed. IT staff: see the site hub guide.</translation>
    </message>
    <message>
        <source>Port {port} of this laptop is already in use (is a site hub already running?): stop it, or choose another port.</source>
        <translation>Port {port} of this laptop is already in use (is a site hub already running?): stop it, or choose another port.</translation>
    </message>
    <message>
        <source>The site hub did not start ({reason}). IT staff: see its log, {log}.</source>
        <translation>The site hub did not start ({reason}). IT staff: see its log, {log}.</translation>
    </message>
    <message>
        <source>This laptop's site hub is not enrolled yet: type the relay code from the province.</source>
        <translation>This laptop's site hub is not enrolled yet: type the relay code from the province.</translation>
    </message>
    <message>
        <source>This desk has no way to check a site hub's identity (it was enrolled before site hubs existed). Nothing was sent and nothing is lost. IT staff: enroll the desk again, or set the site hub with its fingerprint (tramtiem site-hub set ADDRESS --fingerprint SHA256).</source>
        <translation>This desk has no way to check a site hub's identity (it was enrolled before site hubs existed). Nothing was sent and nothing is lost. IT staff: enroll the desk again, or set the site hub with its fingerprint (tramtiem site-hub set ADDRESS --fingerprint SHA256).</translation>
    </message>
    <message>
        <source>This review item no longer exists.</source>
        <translation>This review item no longer exists.</translation>
    </message>
    <message>
        <source>This review item was already decided.</source>
        <translation>This review item was already decided.</translation>
    </message>
    <message>
        <source>This decision does not fit this kind of item.</source>
        <translation>This decision does not fit this kind of item.</translation>
    </message>
    <message>
        <source>Invalid value.</source>
        <translation>Invalid value.</translation>
    </message>
    <message>
        <source>Too long (at most {max} characters).</source>
        <translation>Too long (at most {max} characters).</translation>
    </message>
    <message>
        <source>Sync is not running on this station.</source>
        <translation>Sync is not running on this station.</translation>
    </message>
    <message>
        <source>Not found.</source>
        <translation>Not found.</translation>
    </message>
    <message>
        <source>Already expected that day: this row adds nothing.</source>
        <translation>Already expected that day: this row adds nothing.</translation>
    </message>
    <message>
        <source>This value is not in the mapping's code list.</source>
        <translation>This value is not in the mapping's code list.</translation>
    </message>
    <message>
        <source>Same person as row {first_row} of the file.</source>
        <translation>Same person as row {first_row} of the file.</translation>
    </message>
    <message>
        <source>Excel had dropped the leading 0 of the ID number; it was put back.</source>
        <translation>Excel had dropped the leading 0 of the ID number; it was put back.</translation>
    </message>
    <message>
        <source>Excel had dropped the leading 0 of the phone number; it was put back.</source>
        <translation>Excel had dropped the leading 0 of the phone number; it was put back.</translation>
    </message>
    <message>
        <source>The file cannot be read (damaged, or not an Excel/CSV file).</source>
        <translation>The file cannot be read (damaged, or not an Excel/CSV file).</translation>
    </message>
    <message>
        <source>Use an .xlsx or .csv file.</source>
        <translation>Use an .xlsx or .csv file.</translation>
    </message>
    <message>
        <source>The file is too large (at most {max_mb} MB).</source>
        <translation>The file is too large (at most {max_mb} MB).</translation>
    </message>
    <message>
        <source>The file has too many rows (at most {max}).</source>
        <translation>The file has too many rows (at most {max}).</translation>
    </message>
    <message>
        <source>The workbook has no sheet named “{sheet}”.</source>
        <translation>The workbook has no sheet named “{sheet}”.</translation>
    </message>
    <message>
        <source>The file has no header row at row {row}.</source>
        <translation>The file has no header row at row {row}.</translation>
    </message>
    <message>
        <source>The column “{header}” is missing from the file.</source>
        <translation>The column “{header}” is missing from the file.</translation>
    </message>
    <message>
        <source>Most names look garbled: the file may be in an old Vietnamese font encoding (TCVN3/VNI). Convert it to Unicode first.</source>
        <translation>Most names look garbled: the file may be in an old Vietnamese font encoding (TCVN3/VNI). Convert it to Unicode first.</translation>
    </message>
    <message>
        <source>The first day is after the last day.</source>
        <translation>The first day is after the last day.</translation>
    </message>
    <message>
        <source>The mapping file is not valid.</source>
        <translation>The mapping file is not valid.</translation>
    </message>
    <message>
        <source>The mapping file cannot be read.</source>
        <translation>The mapping file cannot be read.</translation>
    </message>
    <message>
        <source>The mapping file is not JSON.</source>
        <translation>The mapping file is not JSON.</translation>
    </message>
    <message>
        <source>The mapping's header and start rows are not valid.</source>
        <translation>The mapping's header and start rows are not valid.</translation>
    </message>
    <message>
        <source>The mapping's date format is not valid.</source>
        <translation>The mapping's date format is not valid.</translation>
    </message>
    <message>
        <source>The mapping has no columns.</source>
        <translation>The mapping has no columns.</translation>
    </message>
    <message>
        <source>A column of the mapping has no header text.</source>
        <translation>A column of the mapping has no header text.</translation>
    </message>
    <message>
        <source>The mapping names an unknown field ({field}).</source>
        <translation>The mapping names an unknown field ({field}).</translation>
    </message>
    <message>
        <source>The mapping lists a field or header twice ({field}).</source>
        <translation>The mapping lists a field or header twice ({field}).</translation>
    </message>
    <message>
        <source>The mapping needs at least the name and date of birth columns.</source>
        <translation>The mapping needs at least the name and date of birth columns.</translation>
    </message>
    <message>
        <source>A code list of the mapping is not valid.</source>
        <translation>A code list of the mapping is not valid.</translation>
    </message>
    <message>
        <source>A code list of the mapping uses the same text twice ({field}).</source>
        <translation>A code list of the mapping uses the same text twice ({field}).</translation>
    </message>
    <message>
        <source>Something went wrong; the action was not saved. Try again.</source>
        <translation>Something went wrong; the action was not saved. Try again.</translation>
    </message>
    <message>
        <source>This field is required.</source>
        <translation>This field is required.</translation>
    </message>
    <message>
        <source>This value is not valid.</source>
        <translation>This value is not valid.</translation>
    </message>
    <message>
        <source>Too short (at least {min} characters).</source>
        <translation>Too short (at least {min} characters).</translation>
    </message>
    <message>
        <source>Remove the characters &lt; &gt; {{ }} $ ` ; = \ |.</source>
        <translation>Remove the characters &lt; &gt; {{ }} $ ` ; = \ |.</translation>
    </message>
    <message>
        <source>pregnancy</source>
        <translation>pregnancy</translation>
    </message>
    <message>
        <source>breastfeeding</source>
        <translation>breastfeeding</translation>
    </message>
    <message>
        <source>anaphylaxis to a previous COVID-19 vaccine dose (same vaccine type)</source>
        <translation>anaphylaxis to a previous COVID-19 vaccine dose (same vaccine type)</translation>
    </message>
</context>
<context>
    <name>ObservationWorkspace</name>
    <message>
        <source>Observation (30 minutes)</source>
        <translation>Observation (30 minutes)</translation>
    </message>
    <message>
        <source>Observation done (Enter)</source>
        <translation>Observation done (Enter)</translation>
    </message>
    <message>
        <source>Adverse event… (Ctrl+E)</source>
        <translation>Adverse event… (Ctrl+E)</translation>
    </message>
    <message>
        <source>Print slip (Ctrl+P)</source>
        <translation>Print slip (Ctrl+P)</translation>
    </message>
    <message>
        <source>A4</source>
        <translation>A4</translation>
    </message>
    <message>
        <source>A5</source>
        <translation>A5</translation>
    </message>
    <message>
        <source>Receipt 80 mm</source>
        <translation>Receipt 80 mm</translation>
    </message>
    <message>
        <source>Printer… (Ctrl+Shift+P)</source>
        <translation>Printer… (Ctrl+Shift+P)</translation>
    </message>
    <message>
        <source>Slip as PDF</source>
        <translation>Slip as PDF</translation>
    </message>
    <message>
        <source>Observation</source>
        <translation>Observation</translation>
    </message>
    <message>
        <source>↑ ↓</source>
        <translation>↑ ↓</translation>
    </message>
    <message>
        <source>Choose the person</source>
        <translation>Choose the person</translation>
    </message>
    <message>
        <source>Enter</source>
        <translation>Enter</translation>
    </message>
    <message>
        <source>Observation done: hand over the certificate</source>
        <translation>Observation done: hand over the certificate</translation>
    </message>
    <message>
        <source>Ctrl+Z</source>
        <translation>Ctrl+Z</translation>
    </message>
    <message>
        <source>Undo the last “observation done” (a few seconds)</source>
        <translation>Undo the last “observation done” (a few seconds)</translation>
    </message>
    <message>
        <source>Ctrl+E</source>
        <translation>Ctrl+E</translation>
    </message>
    <message>
        <source>Record an adverse event</source>
        <translation>Record an adverse event</translation>
    </message>
    <message>
        <source>Ctrl+P</source>
        <translation>Ctrl+P</translation>
    </message>
    <message>
        <source>Print the confirmation slip of the person just done</source>
        <translation>Print the confirmation slip of the person just done</translation>
    </message>
    <message>
        <source>Ctrl+Shift+P</source>
        <translation>Ctrl+Shift+P</translation>
    </message>
    <message>
        <source>Choose the slip's printer</source>
        <translation>Choose the slip's printer</translation>
    </message>
    <message numerus="yes">
        <source>Under observation: %n</source>
        <translation>
            <numerusform>Under observation: %n</numerusform>
            <numerusform>Under observation: %n</numerusform>
        </translation>
    </message>
    <message>
        <source>Observation ended early: {name}.</source>
        <translation>Observation ended early: {name}.</translation>
    </message>
    <message>
        <source>Undo (Ctrl+Z)</source>
        <translation>Undo (Ctrl+Z)</translation>
    </message>
    <message>
        <source>Undone: {name} is under observation again.</source>
        <translation>Undone: {name} is under observation again.</translation>
    </message>
    <message>
        <source>Observation done: {name}</source>
        <translation>Observation done: {name}</translation>
    </message>
    <message>
        <source>No PDF viewer opened. The slip is saved here; open it to print: {path}</source>
        <translation>No PDF viewer opened. The slip is saved here; open it to print: {path}</translation>
    </message>
    <message>
        <source>Observation done: {name} may leave.</source>
        <translation>Observation done: {name} may leave.</translation>
    </message>
    <message>
        <source>Adverse event recorded. Inform the supervisor if it is serious.</source>
        <translation>Adverse event recorded. Inform the supervisor if it is serious.</translation>
    </message>
    <message>
        <source>Adverse event recorded</source>
        <translation>Adverse event recorded</translation>
    </message>
    <message>
        <source>Slips go to {printer}.</source>
        <translation>Slips go to {printer}.</translation>
    </message>
    <message>
        <source>The slip could not be sent to {printer}.</source>
        <translation>The slip could not be sent to {printer}.</translation>
    </message>
    <message>
        <source>Slip sent to {printer}.</source>
        <translation>Slip sent to {printer}.</translation>
    </message>
    <message>
        <source>The slip could not be written.</source>
        <translation>The slip could not be written.</translation>
    </message>
    <message>
        <source>No printer is installed: the slip is a PDF to print from the viewer: {path}</source>
        <translation>No printer is installed: the slip is a PDF to print from the viewer: {path}</translation>
    </message>
    <message>
        <source>Slip ready to print: {path}</source>
        <translation>Slip ready to print: {path}</translation>
    </message>
</context>
<context>
    <name>OverrideDialog</name>
    <message>
        <source>Supervisor override</source>
        <translation>Supervisor override</translation>
    </message>
    <message>
        <source>This dose is refused:</source>
        <translation>This dose is refused:</translation>
    </message>
    <message>
        <source>Only a supervisor can let it through. The reason and the supervisor's name are kept with the dose and in the audit log.</source>
        <translation>Only a supervisor can let it through. The reason and the supervisor's name are kept with the dose and in the audit log.</translation>
    </message>
    <message>
        <source>Why is this dose right for this person?</source>
        <translation>Why is this dose right for this person?</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Reason</translation>
    </message>
    <message>
        <source>Supervisor's user name</source>
        <translation>Supervisor's user name</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Password</translation>
    </message>
    <message>
        <source>Override and record</source>
        <translation>Override and record</translation>
    </message>
    <message>
        <source>Cancel (Esc)</source>
        <translation>Cancel (Esc)</translation>
    </message>
</context>
<context>
    <name>QueueModel</name>
    <message>
        <source>No.</source>
        <translation>No.</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Full name</translation>
    </message>
    <message>
        <source>Born</source>
        <translation>Born</translation>
    </message>
    <message>
        <source>Arrived</source>
        <translation>Arrived</translation>
    </message>
</context>
<context>
    <name>ReasonDialog</name>
    <message>
        <source>Back (Esc)</source>
        <translation>Back (Esc)</translation>
    </message>
</context>
<context>
    <name>ReceptionWorkspace</name>
    <message>
        <source>Reception</source>
        <translation>Reception</translation>
    </message>
    <message>
        <source>Scanner ready: scan the QR code on the CCCD at any time</source>
        <translation>Scanner ready: scan the QR code on the CCCD at any time</translation>
    </message>
    <message>
        <source>…or paste the QR text here and press Enter</source>
        <translation>…or paste the QR text here and press Enter</translation>
    </message>
    <message>
        <source>Search (Ctrl+F): name, phone or ID number</source>
        <translation>Search (Ctrl+F): name, phone or ID number</translation>
    </message>
    <message>
        <source>Name with or without accents, in any order; a phone or ID number, or its last digits</source>
        <translation>Name with or without accents, in any order; a phone or ID number, or its last digits</translation>
    </message>
    <message>
        <source>Queue number</source>
        <translation>Queue number</translation>
    </message>
    <message>
        <source>Check in (Enter)</source>
        <translation>Check in (Enter)</translation>
    </message>
    <message>
        <source>New walk-in (Ctrl+N)</source>
        <translation>New walk-in (Ctrl+N)</translation>
    </message>
    <message>
        <source>Ctrl+F</source>
        <translation>Ctrl+F</translation>
    </message>
    <message>
        <source>Search by name, phone or ID</source>
        <translation>Search by name, phone or ID</translation>
    </message>
    <message>
        <source>↓ then Enter</source>
        <translation>↓ then Enter</translation>
    </message>
    <message>
        <source>Choose a result and check the person in</source>
        <translation>Choose a result and check the person in</translation>
    </message>
    <message>
        <source>Ctrl+N</source>
        <translation>Ctrl+N</translation>
    </message>
    <message>
        <source>New walk-in registration</source>
        <translation>New walk-in registration</translation>
    </message>
    <message>
        <source>Scan</source>
        <translation>Scan</translation>
    </message>
    <message>
        <source>CCCD QR: finds the person or fills a new registration</source>
        <translation>CCCD QR: finds the person or fills a new registration</translation>
    </message>
    <message>
        <source>Esc</source>
        <translation>Esc</translation>
    </message>
    <message>
        <source>Close the form (asks if it has input) / clear the search</source>
        <translation>Close the form (asks if it has input) / clear the search</translation>
    </message>
    <message numerus="yes">
        <source>Search results: %n</source>
        <translation>
            <numerusform>Search results: %n</numerusform>
            <numerusform>Search results: %n</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Today: %n people</source>
        <translation>
            <numerusform>Today: %n people</numerusform>
            <numerusform>Today: %n people</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n not arrived yet</source>
        <translation>
            <numerusform>%n not arrived yet</numerusform>
            <numerusform>%n not arrived yet</numerusform>
        </translation>
    </message>
    <message>
        <source>Nobody selected</source>
        <translation>Nobody selected</translation>
    </message>
    <message>
        <source>Search, pick from today's list, or scan a CCCD.</source>
        <translation>Search, pick from today's list, or scan a CCCD.</translation>
    </message>
    <message>
        <source>Born {birth}</source>
        <translation>Born {birth}</translation>
    </message>
    <message>
        <source>ID {tail}</source>
        <translation>ID {tail}</translation>
    </message>
    <message>
        <source>Phone …{tail}</source>
        <translation>Phone …{tail}</translation>
    </message>
    <message>
        <source>Last dose: {text}</source>
        <translation>Last dose: {text}</translation>
    </message>
    <message>
        <source>not on today's list</source>
        <translation>not on today's list</translation>
    </message>
    <message>
        <source>Today: {status}</source>
        <translation>Today: {status}</translation>
    </message>
    <message>
        <source>Add and check in (Enter)</source>
        <translation>Add and check in (Enter)</translation>
    </message>
    <message>
        <source>Checked in. Queue number {label}: please go to screening.</source>
        <translation>Checked in. Queue number {label}: please go to screening.</translation>
    </message>
    <message>
        <source>Checked in: {label}</source>
        <translation>Checked in: {label}</translation>
    </message>
    <message>
        <source>What you typed before is back. To start again, close the form and choose “Discard the input”.</source>
        <translation>What you typed before is back. To start again, close the form and choose “Discard the input”.</translation>
    </message>
    <message>
        <source>Continue the walk-in (Ctrl+N)</source>
        <translation>Continue the walk-in (Ctrl+N)</translation>
    </message>
    <message>
        <source>Card scanned: this person is already registered.</source>
        <translation>Card scanned: this person is already registered.</translation>
    </message>
</context>
<context>
    <name>RegistrationForm</name>
    <message>
        <source>New walk-in registration</source>
        <translation>New walk-in registration</translation>
    </message>
    <message>
        <source>As on the ID card</source>
        <translation>As on the ID card</translation>
    </message>
    <message>
        <source>dd/mm/yyyy or year</source>
        <translation>dd/mm/yyyy or year</translation>
    </message>
    <message>
        <source>Choose</source>
        <translation>Choose</translation>
    </message>
    <message>
        <source>10 digits, e.g. 0912345678</source>
        <translation>10 digits, e.g. 0912345678</translation>
    </message>
    <message>
        <source>Type the group number</source>
        <translation>Type the group number</translation>
    </message>
    <message>
        <source>Type to search</source>
        <translation>Type to search</translation>
    </message>
    <message>
        <source>Choose the province first</source>
        <translation>Choose the province first</translation>
    </message>
    <message>
        <source>House number, street, hamlet</source>
        <translation>House number, street, hamlet</translation>
    </message>
    <message>
        <source>The person was told how their data is used and agrees</source>
        <translation>The person was told how their data is used and agrees</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Full name</translation>
    </message>
    <message>
        <source>Date of birth</source>
        <translation>Date of birth</translation>
    </message>
    <message>
        <source>Sex</source>
        <translation>Sex</translation>
    </message>
    <message>
        <source>Document</source>
        <translation>Document</translation>
    </message>
    <message>
        <source>ID number</source>
        <translation>ID number</translation>
    </message>
    <message>
        <source>Mobile phone</source>
        <translation>Mobile phone</translation>
    </message>
    <message>
        <source>Priority group</source>
        <translation>Priority group</translation>
    </message>
    <message>
        <source>Province</source>
        <translation>Province</translation>
    </message>
    <message>
        <source>Ward / commune</source>
        <translation>Ward / commune</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Address</translation>
    </message>
    <message>
        <source>Already registered? Choose the person (Enter), or save as new:</source>
        <translation>Already registered? Choose the person (Enter), or save as new:</translation>
    </message>
    <message>
        <source>Save and check in (Enter)</source>
        <translation>Save and check in (Enter)</translation>
    </message>
    <message>
        <source>Save as a new person (Ctrl+S)</source>
        <translation>Save as a new person (Ctrl+S)</translation>
    </message>
    <message>
        <source>Close (Esc)</source>
        <translation>Close (Esc)</translation>
    </message>
    <message>
        <source>Close the registration form?</source>
        <translation>Close the registration form?</translation>
    </message>
    <message>
        <source>What you typed is kept: “New walk-in (Ctrl+N)” brings it back. Discard it only if this person will not be registered.</source>
        <translation>What you typed is kept: “New walk-in (Ctrl+N)” brings it back. Discard it only if this person will not be registered.</translation>
    </message>
    <message>
        <source>same ID number</source>
        <translation>same ID number</translation>
    </message>
    <message>
        <source>same name, birth date and phone</source>
        <translation>same name, birth date and phone</translation>
    </message>
    <message>
        <source>same name and birth date</source>
        <translation>same name and birth date</translation>
    </message>
</context>
<context>
    <name>RejectedModel</name>
    <message>
        <source>Entered</source>
        <translation>Entered</translation>
    </message>
    <message>
        <source>What</source>
        <translation>What</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Reason</translation>
    </message>
</context>
<context>
    <name>ReportDosesModel</name>
    <message>
        <source>Vaccine</source>
        <translation>Vaccine</translation>
    </message>
    <message>
        <source>Dose</source>
        <translation>Dose</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Kind</translation>
    </message>
    <message>
        <source>Priority group</source>
        <translation>Priority group</translation>
    </message>
    <message>
        <source>Doses</source>
        <translation>Doses</translation>
    </message>
</context>
<context>
    <name>ReportLotsModel</name>
    <message>
        <source>Vaccine</source>
        <translation>Vaccine</translation>
    </message>
    <message>
        <source>Lot</source>
        <translation>Lot</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Received</translation>
    </message>
    <message>
        <source>Used that day</source>
        <translation>Used that day</translation>
    </message>
    <message>
        <source>Used to date</source>
        <translation>Used to date</translation>
    </message>
    <message>
        <source>Remaining</source>
        <translation>Remaining</translation>
    </message>
</context>
<context>
    <name>ReportsWorkspace</name>
    <message>
        <source>Reports</source>
        <translation>Reports</translation>
    </message>
    <message>
        <source>Daily report</source>
        <translation>Daily report</translation>
    </message>
    <message>
        <source>Exchange</source>
        <translation>Exchange</translation>
    </message>
    <message>
        <source>Print PDF…</source>
        <translation>Print PDF…</translation>
    </message>
    <message>
        <source>Export Excel…</source>
        <translation>Export Excel…</translation>
    </message>
    <message>
        <source>Day:</source>
        <translation>Day:</translation>
    </message>
    <message>
        <source>Doses given</source>
        <translation>Doses given</translation>
    </message>
    <message>
        <source>People vaccinated</source>
        <translation>People vaccinated</translation>
    </message>
    <message>
        <source>Registered</source>
        <translation>Registered</translation>
    </message>
    <message>
        <source>Came</source>
        <translation>Came</translation>
    </message>
    <message>
        <source>Screened</source>
        <translation>Screened</translation>
    </message>
    <message>
        <source>Deferred</source>
        <translation>Deferred</translation>
    </message>
    <message>
        <source>Adverse events</source>
        <translation>Adverse events</translation>
    </message>
    <message>
        <source>Voided doses</source>
        <translation>Voided doses</translation>
    </message>
    <message>
        <source>Doses by vaccine, dose, kind and priority group</source>
        <translation>Doses by vaccine, dose, kind and priority group</translation>
    </message>
    <message>
        <source>Lots: doses used against doses received</source>
        <translation>Lots: doses used against doses received</translation>
    </message>
    <message>
        <source>Export for the national platform</source>
        <translation>Export for the national platform</translation>
    </message>
    <message>
        <source>built-in mapping (placeholder template)</source>
        <translation>built-in mapping (placeholder template)</translation>
    </message>
    <message>
        <source>Mapping file…</source>
        <translation>Mapping file…</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>Export…</translation>
    </message>
    <message>
        <source>From</source>
        <translation>From</translation>
    </message>
    <message>
        <source>to</source>
        <translation>to</translation>
    </message>
    <message>
        <source>The file holds personal data: keep it on the site's encrypted stick and delete it once uploaded.</source>
        <translation>The file holds personal data: keep it on the site's encrypted stick and delete it once uploaded.</translation>
    </message>
    <message>
        <source>Import pre-registrations</source>
        <translation>Import pre-registrations</translation>
    </message>
    <message>
        <source>an .xlsx or .csv list</source>
        <translation>an .xlsx or .csv list</translation>
    </message>
    <message>
        <source>Choose file…</source>
        <translation>Choose file…</translation>
    </message>
    <message>
        <source>Check the file</source>
        <translation>Check the file</translation>
    </message>
    <message>
        <source>Import all</source>
        <translation>Import all</translation>
    </message>
    <message>
        <source>File</source>
        <translation>File</translation>
    </message>
    <message>
        <source>Expected on</source>
        <translation>Expected on</translation>
    </message>
    <message>
        <source>Ctrl+Tab</source>
        <translation>Ctrl+Tab</translation>
    </message>
    <message>
        <source>Next tab (daily report, exchange)</source>
        <translation>Next tab (daily report, exchange)</translation>
    </message>
    <message>
        <source>Column mapping</source>
        <translation>Column mapping</translation>
    </message>
    <message>
        <source>Mapping (*.json)</source>
        <translation>Mapping (*.json)</translation>
    </message>
    <message>
        <source>Pre-registration list</source>
        <translation>Pre-registration list</translation>
    </message>
    <message>
        <source>Lists (*.xlsx *.csv)</source>
        <translation>Lists (*.xlsx *.csv)</translation>
    </message>
    <message>
        <source>Save the report as PDF</source>
        <translation>Save the report as PDF</translation>
    </message>
    <message>
        <source>The file could not be written.</source>
        <translation>The file could not be written.</translation>
    </message>
    <message>
        <source>Report saved: {path}</source>
        <translation>Report saved: {path}</translation>
    </message>
    <message>
        <source>Report saved</source>
        <translation>Report saved</translation>
    </message>
    <message>
        <source>Export the report to Excel</source>
        <translation>Export the report to Excel</translation>
    </message>
    <message>
        <source>Workbook saved: {path}</source>
        <translation>Workbook saved: {path}</translation>
    </message>
    <message>
        <source>Excel (*.xlsx);;CSV (*.csv)</source>
        <translation>Excel (*.xlsx);;CSV (*.csv)</translation>
    </message>
    <message>
        <source>Exported {n} doses to {path}.</source>
        <translation>Exported {n} doses to {path}.</translation>
    </message>
    <message>
        <source>Choose the file first.</source>
        <translation>Choose the file first.</translation>
    </message>
    <message>
        <source>{read} rows read: {new} new people, {known} already known, {there} already expected that day, {bad} rows left out.</source>
        <translation>{read} rows read: {new} new people, {known} already known, {there} already expected that day, {bad} rows left out.</translation>
    </message>
    <message>
        <source>Nothing is imported yet. {bad} rows have problems (listed below) and would be left out; fix the file and check again, or import the {good} good rows.</source>
        <translation>Nothing is imported yet. {bad} rows have problems (listed below) and would be left out; fix the file and check again, or import the {good} good rows.</translation>
    </message>
    <message>
        <source>Nothing is imported yet. All {n} rows can be imported.</source>
        <translation>Nothing is imported yet. All {n} rows can be imported.</translation>
    </message>
    <message>
        <source>Everyone in this file is already expected that day.</source>
        <translation>Everyone in this file is already expected that day.</translation>
    </message>
    <message>
        <source>Importing… {percent}% (nothing is saved until every row is in)</source>
        <translation>Importing… {percent}% (nothing is saved until every row is in)</translation>
    </message>
    <message>
        <source>Imported: {people} new people, {regs} registrations for {day}.</source>
        <translation>Imported: {people} new people, {regs} registrations for {day}.</translation>
    </message>
    <message>
        <source>Import done</source>
        <translation>Import done</translation>
    </message>
</context>
<context>
    <name>ReviewsModel</name>
    <message>
        <source>Priority</source>
        <translation>Priority</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Kind</translation>
    </message>
    <message>
        <source>Since</source>
        <translation>Since</translation>
    </message>
</context>
<context>
    <name>ScreeningWorkspace</name>
    <message>
        <source>Screening</source>
        <translation>Screening</translation>
    </message>
    <message>
        <source>Choose a person from the queue</source>
        <translation>Choose a person from the queue</translation>
    </message>
    <message>
        <source>Questions (tick = yes)</source>
        <translation>Questions (tick = yes)</translation>
    </message>
    <message>
        <source>Parent or guardian (children's checklist)</source>
        <translation>Parent or guardian (children's checklist)</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Full name</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>Phone</translation>
    </message>
    <message>
        <source>Vital signs (leave empty if not measured)</source>
        <translation>Vital signs (leave empty if not measured)</translation>
    </message>
    <message>
        <source>Reason for a different outcome (required)</source>
        <translation>Reason for a different outcome (required)</translation>
    </message>
    <message>
        <source>Save screening (Ctrl+Enter)</source>
        <translation>Save screening (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>Suggested</source>
        <translation>Suggested</translation>
    </message>
    <message>
        <source>Why</source>
        <translation>Why</translation>
    </message>
    <message>
        <source>Doctor's decision</source>
        <translation>Doctor's decision</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Reason</translation>
    </message>
    <message>
        <source>/min</source>
        <translation>/min</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>Details</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>Temperature</translation>
    </message>
    <message>
        <source>Pulse</source>
        <translation>Pulse</translation>
    </message>
    <message>
        <source>Blood pressure, systolic</source>
        <translation>Blood pressure, systolic</translation>
    </message>
    <message>
        <source>Blood pressure, diastolic</source>
        <translation>Blood pressure, diastolic</translation>
    </message>
    <message>
        <source>Breathing rate</source>
        <translation>Breathing rate</translation>
    </message>
    <message>
        <source>↑ ↓ then Enter</source>
        <translation>↑ ↓ then Enter</translation>
    </message>
    <message>
        <source>Choose the next person and start the form</source>
        <translation>Choose the next person and start the form</translation>
    </message>
    <message>
        <source>Ctrl+T</source>
        <translation>Ctrl+T</translation>
    </message>
    <message>
        <source>To the temperature (the first vital sign)</source>
        <translation>To the temperature (the first vital sign)</translation>
    </message>
    <message>
        <source>Space</source>
        <translation>Space</translation>
    </message>
    <message>
        <source>Tick / untick a question</source>
        <translation>Tick / untick a question</translation>
    </message>
    <message>
        <source>Ctrl+Enter</source>
        <translation>Ctrl+Enter</translation>
    </message>
    <message>
        <source>Save the screening</source>
        <translation>Save the screening</translation>
    </message>
    <message numerus="yes">
        <source>Waiting for screening: %n</source>
        <translation>
            <numerusform>Waiting for screening: %n</numerusform>
            <numerusform>Waiting for screening: %n</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n years</source>
        <translation>
            <numerusform>%n years</numerusform>
            <numerusform>%n years</numerusform>
        </translation>
    </message>
    <message>
        <source>{a}–{b} years</source>
        <translation>{a}–{b} years</translation>
    </message>
    <message>
        <source>Every answer is “no” and no vital sign is abnormal.</source>
        <translation>Every answer is “no” and no vital sign is abnormal.</translation>
    </message>
    <message>
        <source>Question {id}: {text}</source>
        <translation>Question {id}: {text}</translation>
    </message>
    <message>
        <source>{vital} {value} (normal {low}–{high})</source>
        <translation>{vital} {value} (normal {low}–{high})</translation>
    </message>
    <message>
        <source>The strongest wins: {order}.</source>
        <translation>The strongest wins: {order}.</translation>
    </message>
    <message>
        <source>Saved: {outcome}. Send the person to vaccination.</source>
        <translation>Saved: {outcome}. Send the person to vaccination.</translation>
    </message>
    <message>
        <source>Saved: {outcome}. The person is not vaccinated today.</source>
        <translation>Saved: {outcome}. The person is not vaccinated today.</translation>
    </message>
    <message>
        <source>Screening saved</source>
        <translation>Screening saved</translation>
    </message>
</context>
<context>
    <name>SetupWizard</name>
    <message>
        <source>Trạm Tiêm — set up this laptop</source>
        <translation>Trạm Tiêm — set up this laptop</translation>
    </message>
    <message>
        <source>Set up this laptop as a vaccination station</source>
        <translation>Set up this laptop as a vaccination station</translation>
    </message>
    <message>
        <source>1. Connect to the hub</source>
        <translation>1. Connect to the hub</translation>
    </message>
    <message>
        <source>Type the hub address and the one-time code from the hub admin. You can type them without a connection; “Connect” needs the hub.</source>
        <translation>Type the hub address and the one-time code from the hub admin. You can type them without a connection; “Connect” needs the hub.</translation>
    </message>
    <message>
        <source>Hub address</source>
        <translation>Hub address</translation>
    </message>
    <message>
        <source>One-time code</source>
        <translation>One-time code</translation>
    </message>
    <message>
        <source>Station letter</source>
        <translation>Station letter</translation>
    </message>
    <message>
        <source>Laptop name (optional)</source>
        <translation>Laptop name (optional)</translation>
    </message>
    <message>
        <source>Load provisioning file…</source>
        <translation>Load provisioning file…</translation>
    </message>
    <message>
        <source>Connect (Enter)</source>
        <translation>Connect (Enter)</translation>
    </message>
    <message>
        <source>2. Check the site</source>
        <translation>2. Check the site</translation>
    </message>
    <message>
        <source>The hub enrolled this laptop at the site below. Is this your site?</source>
        <translation>The hub enrolled this laptop at the site below. Is this your site?</translation>
    </message>
    <message>
        <source>No, this is not my site</source>
        <translation>No, this is not my site</translation>
    </message>
    <message>
        <source>Yes, this is my site (Enter)</source>
        <translation>Yes, this is my site (Enter)</translation>
    </message>
    <message>
        <source>3. First administrator</source>
        <translation>3. First administrator</translation>
    </message>
    <message>
        <source>This account sets up users and vaccine lots at the site. Choose a password of at least 8 characters.</source>
        <translation>This account sets up users and vaccine lots at the site. Choose a password of at least 8 characters.</translation>
    </message>
    <message>
        <source>User name</source>
        <translation>User name</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Full name</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Password</translation>
    </message>
    <message>
        <source>Password again</source>
        <translation>Password again</translation>
    </message>
    <message>
        <source>Create the account (Enter)</source>
        <translation>Create the account (Enter)</translation>
    </message>
    <message>
        <source>4. Recovery code</source>
        <translation>4. Recovery code</translation>
    </message>
    <message>
        <source>If this laptop breaks, its data can be opened on another one only with this code and a backup. Print it or write it down, and keep it locked away at the site — never in the laptop bag.</source>
        <translation>If this laptop breaks, its data can be opened on another one only with this code and a backup. Print it or write it down, and keep it locked away at the site — never in the laptop bag.</translation>
    </message>
    <message>
        <source>Save as PDF to print…</source>
        <translation>Save as PDF to print…</translation>
    </message>
    <message>
        <source>I have printed or written down the recovery code</source>
        <translation>I have printed or written down the recovery code</translation>
    </message>
    <message>
        <source>Finish</source>
        <translation>Finish</translation>
    </message>
    <message>
        <source>{name} ({code})</source>
        <translation>{name} ({code})</translation>
    </message>
    <message>
        <source>The provisioning file is for site {expected}, but this code is for {actual}.</source>
        <translation>The provisioning file is for site {expected}, but this code is for {actual}.</translation>
    </message>
    <message>
        <source>Provisioning file loaded for site {site}.</source>
        <translation>Provisioning file loaded for site {site}.</translation>
    </message>
    <message>
        <source>Provisioning file</source>
        <translation>Provisioning file</translation>
    </message>
    <message>
        <source>Provisioning file (*.json)</source>
        <translation>Provisioning file (*.json)</translation>
    </message>
    <message>
        <source>The hub address starts with https:// (or http://).</source>
        <translation>The hub address starts with https:// (or http://).</translation>
    </message>
    <message>
        <source>Type the one-time code.</source>
        <translation>Type the one-time code.</translation>
    </message>
    <message>
        <source>The station letter is one letter, A to Z.</source>
        <translation>The station letter is one letter, A to Z.</translation>
    </message>
    <message>
        <source>Connecting to the hub…</source>
        <translation>Connecting to the hub…</translation>
    </message>
    <message>
        <source>The hub does not know this code. Check it, or ask for a new one.</source>
        <translation>The hub does not know this code. Check it, or ask for a new one.</translation>
    </message>
    <message>
        <source>This code was already used. Ask the hub admin for a new one.</source>
        <translation>This code was already used. Ask the hub admin for a new one.</translation>
    </message>
    <message>
        <source>This code has expired. Ask the hub admin for a new one.</source>
        <translation>This code has expired. Ask the hub admin for a new one.</translation>
    </message>
    <message>
        <source>This laptop is enrolled at another site. Ask for a code for that site.</source>
        <translation>This laptop is enrolled at another site. Ask for a code for that site.</translation>
    </message>
    <message>
        <source>This station belongs to another site than the code. Ask for a code for its site.</source>
        <translation>This station belongs to another site than the code. Ask for a code for its site.</translation>
    </message>
    <message>
        <source>This station was revoked at the hub. Ask the hub admin to lift the revocation.</source>
        <translation>This station was revoked at the hub. Ask the hub admin to lift the revocation.</translation>
    </message>
    <message>
        <source>The hub cannot be reached. Check the address and the connection; what you typed is kept, so you can continue here later.</source>
        <translation>The hub cannot be reached. Check the address and the connection; what you typed is kept, so you can continue here later.</translation>
    </message>
    <message>
        <source>The hub refused the enrollment ({code}).</source>
        <translation>The hub refused the enrollment ({code}).</translation>
    </message>
    <message>
        <source>Ask the hub admin for a one-time code for your site, then connect again.</source>
        <translation>Ask the hub admin for a one-time code for your site, then connect again.</translation>
    </message>
    <message>
        <source>The two passwords differ.</source>
        <translation>The two passwords differ.</translation>
    </message>
    <message>
        <source>Trạm Tiêm recovery code</source>
        <translation>Trạm Tiêm recovery code</translation>
    </message>
    <message>
        <source>Site: {site}</source>
        <translation>Site: {site}</translation>
    </message>
    <message>
        <source>Station: {sid}</source>
        <translation>Station: {sid}</translation>
    </message>
    <message>
        <source>With this code and a backup, this station's data can be opened on another laptop (tramtiem restore … --recovery-code). Keep this sheet locked away at the site.</source>
        <translation>With this code and a backup, this station's data can be opened on another laptop (tramtiem restore … --recovery-code). Keep this sheet locked away at the site.</translation>
    </message>
    <message>
        <source>Save the recovery code</source>
        <translation>Save the recovery code</translation>
    </message>
    <message>
        <source>Saved. Print it now and keep it locked away.</source>
        <translation>Saved. Print it now and keep it locked away.</translation>
    </message>
</context>
<context>
    <name>SiteHubPanel</name>
    <message>
        <source>Site hub (this site's LAN)</source>
        <translation>Site hub (this site's LAN)</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Address</translation>
    </message>
    <message>
        <source>Found</source>
        <translation>Found</translation>
    </message>
    <message>
        <source>This desk → site hub</source>
        <translation>This desk → site hub</translation>
    </message>
    <message>
        <source>Last contact</source>
        <translation>Last contact</translation>
    </message>
    <message>
        <source>Not yet at the site hub</source>
        <translation>Not yet at the site hub</translation>
    </message>
    <message>
        <source>At the site hub, not yet at the province</source>
        <translation>At the site hub, not yet at the province</translation>
    </message>
    <message>
        <source>Site hub → province</source>
        <translation>Site hub → province</translation>
    </message>
    <message>
        <source>Province last answered</source>
        <translation>Province last answered</translation>
    </message>
    <message>
        <source>Waiting at the site hub (all desks)</source>
        <translation>Waiting at the site hub (all desks)</translation>
    </message>
    <message>
        <source>found on the LAN</source>
        <translation>found on the LAN</translation>
    </message>
    <message>
        <source>typed by IT staff</source>
        <translation>typed by IT staff</translation>
    </message>
    <message>
        <source>never</source>
        <translation>never</translation>
    </message>
    <message>
        <source>{time} ({age} ago)</source>
        <translation>{time} ({age} ago)</translation>
    </message>
    <message>
        <source>not known (the site hub did not answer)</source>
        <translation>not known (the site hub did not answer)</translation>
    </message>
    <message>
        <source>asking the site hub…</source>
        <translation>asking the site hub…</translation>
    </message>
    <message>
        <source>reachable</source>
        <translation>reachable</translation>
    </message>
    <message>
        <source>not reachable</source>
        <translation>not reachable</translation>
    </message>
    <message>
        <source>{n} (this desk: {mine})</source>
        <translation>{n} (this desk: {mine})</translation>
    </message>
</context>
<context>
    <name>SiteHubTab</name>
    <message>
        <source>This laptop is the site hub</source>
        <translation>This laptop is the site hub</translation>
    </message>
    <message>
        <source>The other desks of this site sync with this laptop over the site's network, also when the Internet line is down; it sends everything on to the province. Keep this laptop on during the session. Turn it on once with the relay code from the province.</source>
        <translation>The other desks of this site sync with this laptop over the site's network, also when the Internet line is down; it sends everything on to the province. Keep this laptop on during the session. Turn it on once with the relay code from the province.</translation>
    </message>
    <message>
        <source>Relay code</source>
        <translation>Relay code</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>Port</translation>
    </message>
    <message>
        <source>Turn on</source>
        <translation>Turn on</translation>
    </message>
    <message>
        <source>Turn off</source>
        <translation>Turn off</translation>
    </message>
    <message>
        <source>Reading the site hub's state…</source>
        <translation>Reading the site hub's state…</translation>
    </message>
    <message>
        <source>Running: the desks of site {site} sync with this laptop.</source>
        <translation>Running: the desks of site {site} sync with this laptop.</translation>
    </message>
    <message>
        <source>Address for the other desks: {urls}</source>
        <translation>Address for the other desks: {urls}</translation>
    </message>
    <message>
        <source>Certificate (SHA-256): {fp}</source>
        <translation>Certificate (SHA-256): {fp}</translation>
    </message>
    <message>
        <source>Link to the province: not known yet.</source>
        <translation>Link to the province: not known yet.</translation>
    </message>
    <message>
        <source>Link to the province: up; {n} records waiting to be sent.</source>
        <translation>Link to the province: up; {n} records waiting to be sent.</translation>
    </message>
    <message>
        <source>Link to the province: down since {when}; {n} records kept here wait for it.</source>
        <translation>Link to the province: down since {when}; {n} records kept here wait for it.</translation>
    </message>
    <message>
        <source>Turned on, but not running.</source>
        <translation>Turned on, but not running.</translation>
    </message>
    <message>
        <source>Off: this laptop is an ordinary desk.</source>
        <translation>Off: this laptop is an ordinary desk.</translation>
    </message>
    <message>
        <source>Enrolled as the site hub of {site} (no code needed to turn it on again).</source>
        <translation>Enrolled as the site hub of {site} (no code needed to turn it on again).</translation>
    </message>
    <message>
        <source>Enrolling with the province and starting the site hub…</source>
        <translation>Enrolling with the province and starting the site hub…</translation>
    </message>
    <message>
        <source>The site hub is running.</source>
        <translation>The site hub is running.</translation>
    </message>
    <message>
        <source>Turn off the site hub</source>
        <translation>Turn off the site hub</translation>
    </message>
    <message>
        <source>The site hub still holds {n} records the province has not received. They stay on this laptop and every desk keeps its own copy until the province has it: nothing is lost. Turn it off now?</source>
        <translation>The site hub still holds {n} records the province has not received. They stay on this laptop and every desk keeps its own copy until the province has it: nothing is lost. Turn it off now?</translation>
    </message>
    <message>
        <source>Stopping the site hub…</source>
        <translation>Stopping the site hub…</translation>
    </message>
    <message>
        <source>The site hub is off; its data stays on this laptop.</source>
        <translation>The site hub is off; its data stays on this laptop.</translation>
    </message>
</context>
<context>
    <name>StationApp</name>
    <message>
        <source>Trạm Tiêm is already open on this computer for this station. Look for its window in the taskbar.</source>
        <translation>Trạm Tiêm is already open on this computer for this station. Look for its window in the taskbar.</translation>
    </message>
</context>
<context>
    <name>StationStatusBar</name>
    <message numerus="yes">
        <source>%n min</source>
        <translation>
            <numerusform>%n min</numerusform>
            <numerusform>%n min</numerusform>
        </translation>
    </message>
    <message>
        <source>{h} h {m} min</source>
        <translation>{h} h {m} min</translation>
    </message>
    <message numerus="yes">
        <source>%n days</source>
        <translation>
            <numerusform>%n days</numerusform>
            <numerusform>%n days</numerusform>
        </translation>
    </message>
    <message>
        <source>Site {site}</source>
        <translation>Site {site}</translation>
    </message>
    <message>
        <source>Site hub: {line} · {n} to send</source>
        <translation>Site hub: {line} · {n} to send</translation>
    </message>
    <message>
        <source>Site hub {url}: {n} not yet there; {held} held there, not yet at the province.</source>
        <translation>Site hub {url}: {n} not yet there; {held} held there, not yet at the province.</translation>
    </message>
    <message>
        <source>Province: {line} · {n} at the site hub</source>
        <translation>Province: {line} · {n} at the site hub</translation>
    </message>
    <message numerus="yes">
        <source>Waiting to send: %n</source>
        <translation>
            <numerusform>Waiting to send: %n</numerusform>
            <numerusform>Waiting to send: %n</numerusform>
        </translation>
    </message>
    <message>
        <source>(oldest {age})</source>
        <translation>(oldest {age})</translation>
    </message>
    <message>
        <source>All sent</source>
        <translation>All sent</translation>
    </message>
    <message>
        <source>Last sync {when}</source>
        <translation>Last sync {when}</translation>
    </message>
    <message>
        <source>Never synced</source>
        <translation>Never synced</translation>
    </message>
</context>
<context>
    <name>SyncWorkspace</name>
    <message>
        <source>Sync with the hub</source>
        <translation>Sync with the hub</translation>
    </message>
    <message>
        <source>Sync now (Ctrl+R)</source>
        <translation>Sync now (Ctrl+R)</translation>
    </message>
    <message>
        <source>Line</source>
        <translation>Line</translation>
    </message>
    <message>
        <source>Waiting to send</source>
        <translation>Waiting to send</translation>
    </message>
    <message>
        <source>Oldest waiting</source>
        <translation>Oldest waiting</translation>
    </message>
    <message>
        <source>Last successful sync</source>
        <translation>Last successful sync</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>Progress</translation>
    </message>
    <message>
        <source>Time left</source>
        <translation>Time left</translation>
    </message>
    <message>
        <source>Refused by the hub</source>
        <translation>Refused by the hub</translation>
    </message>
    <message>
        <source>Sync</source>
        <translation>Sync</translation>
    </message>
    <message>
        <source>Ctrl+R</source>
        <translation>Ctrl+R</translation>
    </message>
    <message>
        <source>Sync now</source>
        <translation>Sync now</translation>
    </message>
    <message>
        <source>↑ ↓ then a button</source>
        <translation>↑ ↓ then a button</translation>
    </message>
    <message>
        <source>Choose a review item and decide</source>
        <translation>Choose a review item and decide</translation>
    </message>
    <message>
        <source>never</source>
        <translation>never</translation>
    </message>
    <message>
        <source>Line to the province</source>
        <translation>Line to the province</translation>
    </message>
    <message>
        <source>Sync started.</source>
        <translation>Sync started.</translation>
    </message>
    <message numerus="yes">
        <source>To review: %n</source>
        <translation>
            <numerusform>To review: %n</numerusform>
            <numerusform>To review: %n</numerusform>
        </translation>
    </message>
    <message>
        <source>Choose an item to see the details.</source>
        <translation>Choose an item to see the details.</translation>
    </message>
    <message>
        <source>A supervisor decides these items.</source>
        <translation>A supervisor decides these items.</translation>
    </message>
    <message>
        <source>• {name} · born {birth} · ID {id} · phone {phone}</source>
        <translation>• {name} · born {birth} · ID {id} · phone {phone}</translation>
    </message>
    <message>
        <source>Void one dose</source>
        <translation>Void one dose</translation>
    </message>
    <message>
        <source>Why is this dose void?</source>
        <translation>Why is this dose void?</translation>
    </message>
    <message>
        <source>Void the dose</source>
        <translation>Void the dose</translation>
    </message>
    <message>
        <source>Keep the dose (Esc)</source>
        <translation>Keep the dose (Esc)</translation>
    </message>
    <message>
        <source>Decision saved; it will be sent to the hub.</source>
        <translation>Decision saved; it will be sent to the hub.</translation>
    </message>
    <message>
        <source>Review item resolved</source>
        <translation>Review item resolved</translation>
    </message>
</context>
<context>
    <name>TodayModel</name>
    <message>
        <source>No.</source>
        <translation>No.</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Full name</translation>
    </message>
    <message>
        <source>Born</source>
        <translation>Born</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>Source</translation>
    </message>
</context>
<context>
    <name>UsersModel</name>
    <message>
        <source>User name</source>
        <translation>User name</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>Role</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Active</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>yes</translation>
    </message>
    <message>
        <source>no</source>
        <translation>no</translation>
    </message>
</context>
<context>
    <name>VaccinationWorkspace</name>
    <message>
        <source>Vaccination</source>
        <translation>Vaccination</translation>
    </message>
    <message>
        <source>Lot in use (F8)</source>
        <translation>Lot in use (F8)</translation>
    </message>
    <message>
        <source>Choose (F10)</source>
        <translation>Choose (F10)</translation>
    </message>
    <message>
        <source>Injection site (F10)</source>
        <translation>Injection site (F10)</translation>
    </message>
    <message>
        <source>Choose a person from the queue</source>
        <translation>Choose a person from the queue</translation>
    </message>
    <message>
        <source>Record dose (Enter)</source>
        <translation>Record dose (Enter)</translation>
    </message>
    <message>
        <source>Void selected dose… (Ctrl+Del)</source>
        <translation>Void selected dose… (Ctrl+Del)</translation>
    </message>
    <message>
        <source>Dose history</source>
        <translation>Dose history</translation>
    </message>
    <message>
        <source>F8</source>
        <translation>F8</translation>
    </message>
    <message>
        <source>Choose the lot in use for this session</source>
        <translation>Choose the lot in use for this session</translation>
    </message>
    <message>
        <source>F10</source>
        <translation>F10</translation>
    </message>
    <message>
        <source>Choose the injection site for this session</source>
        <translation>Choose the injection site for this session</translation>
    </message>
    <message>
        <source>↑ ↓</source>
        <translation>↑ ↓</translation>
    </message>
    <message>
        <source>Choose the person</source>
        <translation>Choose the person</translation>
    </message>
    <message>
        <source>Enter</source>
        <translation>Enter</translation>
    </message>
    <message>
        <source>Record the suggested dose with the session lot</source>
        <translation>Record the suggested dose with the session lot</translation>
    </message>
    <message>
        <source>Space, Enter</source>
        <translation>Space, Enter</translation>
    </message>
    <message>
        <source>In a warning: tick, then record anyway</source>
        <translation>In a warning: tick, then record anyway</translation>
    </message>
    <message>
        <source>Ctrl+Del</source>
        <translation>Ctrl+Del</translation>
    </message>
    <message>
        <source>Void the selected dose (reason required)</source>
        <translation>Void the selected dose (reason required)</translation>
    </message>
    <message>
        <source>{vaccine} · lot {lot} · expires {expiry} · {left} left</source>
        <translation>{vaccine} · lot {lot} · expires {expiry} · {left} left</translation>
    </message>
    <message>
        <source>Choose the lot (F8)</source>
        <translation>Choose the lot (F8)</translation>
    </message>
    <message numerus="yes">
        <source>Cleared, waiting: %n</source>
        <translation>
            <numerusform>Cleared, waiting: %n</numerusform>
            <numerusform>Cleared, waiting: %n</numerusform>
        </translation>
    </message>
    <message>
        <source>No further dose is due.</source>
        <translation>No further dose is due.</translation>
    </message>
    <message>
        <source>Suggested: dose {n}, {kind} — {vaccines}</source>
        <translation>Suggested: dose {n}, {kind} — {vaccines}</translation>
    </message>
    <message>
        <source>from {day}</source>
        <translation>from {day}</translation>
    </message>
    <message>
        <source>recommended from {day}</source>
        <translation>recommended from {day}</translation>
    </message>
    <message>
        <source>intervals of {profile}</source>
        <translation>intervals of {profile}</translation>
    </message>
    <message>
        <source>The lot in use ({vaccine}) is not a suggested vaccine.</source>
        <translation>The lot in use ({vaccine}) is not a suggested vaccine.</translation>
    </message>
    <message>
        <source>Already vaccinated today: {vaccine} at {time}.</source>
        <translation>Already vaccinated today: {vaccine} at {time}.</translation>
    </message>
    <message>
        <source>Choose the lot in use first (F8).</source>
        <translation>Choose the lot in use first (F8).</translation>
    </message>
    <message>
        <source>Choose the injection site first (F10).</source>
        <translation>Choose the injection site first (F10).</translation>
    </message>
    <message>
        <source>Recorded: dose {n} {vaccine}, lot {lot}, at {time}. Observe until {until}.</source>
        <translation>Recorded: dose {n} {vaccine}, lot {lot}, at {time}. Observe until {until}.</translation>
    </message>
    <message>
        <source>Supervisor override: {reason}</source>
        <translation>Supervisor override: {reason}</translation>
    </message>
    <message>
        <source>Dose recorded</source>
        <translation>Dose recorded</translation>
    </message>
    <message>
        <source>Select a dose in the history first.</source>
        <translation>Select a dose in the history first.</translation>
    </message>
    <message>
        <source>Void this dose</source>
        <translation>Void this dose</translation>
    </message>
    <message>
        <source>The dose stays in the record, marked void, with your reason. Why is it void?</source>
        <translation>The dose stays in the record, marked void, with your reason. Why is it void?</translation>
    </message>
    <message>
        <source>Void the dose</source>
        <translation>Void the dose</translation>
    </message>
    <message>
        <source>Keep the dose (Esc)</source>
        <translation>Keep the dose (Esc)</translation>
    </message>
    <message>
        <source>The dose was voided.</source>
        <translation>The dose was voided.</translation>
    </message>
</context>
<context>
    <name>WatchModel</name>
    <message>
        <source>No.</source>
        <translation>No.</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Full name</translation>
    </message>
    <message>
        <source>Dose</source>
        <translation>Dose</translation>
    </message>
    <message>
        <source>Given</source>
        <translation>Given</translation>
    </message>
    <message>
        <source>Time left</source>
        <translation>Time left</translation>
    </message>
    <message>
        <source>may leave</source>
        <translation>may leave</translation>
    </message>
</context>
</TS>