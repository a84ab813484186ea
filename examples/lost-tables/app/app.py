"""The lost-tables app: adds the users it is given, and says what it holds."""
import os
import sqlite3
import sys

db = sqlite3.connect(os.environ.get("APP_DB", "/data/app.db"))
with db:
    for name in sys.argv[1:]:
        db.execute("insert into users (name) values (?)", (name,))
tables = [r[0] for r in db.execute(
    "select name from sqlite_master where type = 'table' and name != 'alembic_version' "
    "order by name")]
counts = ", ".join(f"{t}: {db.execute(f'select count(*) from {t}').fetchone()[0]}"
                   for t in tables)
print(f"lost-tables app: {counts or 'no tables'}")
