# Generates the first migration for both backends from one table description.
import re, sys
REF = open('/work/shared/reference/litellm_db_tables.txt').read().splitlines()
spec = {}
for line in REF:
    m = re.match(r'^(LiteLLM_\w+): (.*?)(  \|\| .*)?$', line)
    if m: spec[m.group(1)] = (m.group(2), m.group(3) or '')
TABLES = ["LiteLLM_BudgetTable","LiteLLM_CredentialsTable","LiteLLM_ProxyModelTable","LiteLLM_OrganizationTable",
 "LiteLLM_ModelTable","LiteLLM_TeamTable","LiteLLM_UserTable","LiteLLM_ObjectPermissionTable","LiteLLM_VerificationToken",
 "LiteLLM_DeprecatedVerificationToken","LiteLLM_DeletedVerificationToken","LiteLLM_DeletedTeamTable","LiteLLM_EndUserTable","LiteLLM_TagTable",
 "LiteLLM_SpendLogs","LiteLLM_TeamMembership","LiteLLM_OrganizationMembership","LiteLLM_AuditLog",
 "LiteLLM_DailyUserSpend","LiteLLM_DailyTeamSpend","LiteLLM_DailyOrganizationSpend","LiteLLM_DailyEndUserSpend","LiteLLM_DailyTagSpend"]
# Float columns that hold money (exact NUMERIC on PostgreSQL, decimal text on SQLite)
def coldef(table, name, typ, dialect):
    pk = '(PK)' in typ; uq = '(U)' in typ
    t = typ.replace('(PK)','').replace('(U)','')
    nullable = t.endswith('?'); t = t.rstrip('?')
    array = t.endswith('[]'); t = t[:-2] if array else t
    pg = dialect == 'pg'
    if array:
        sql = ("TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[]" if pg else "TEXT NOT NULL DEFAULT '[]'")
        return f'"{name}" {sql}'
    base = {'String':'TEXT','Int':'BIGINT' if pg else 'INTEGER','BigInt':'BIGINT','Float':'NUMERIC' if pg else 'TEXT',
            'Boolean':'BOOLEAN','DateTime':'TIMESTAMP(3)' if pg else 'TIMESTAMP','Json':'JSONB' if pg else 'TEXT','Bytes':'BYTEA' if pg else 'BLOB'}[t]
    default = ''
    if not nullable:
        if t == 'Float': default = " DEFAULT 0" if pg else " DEFAULT '0'"
        elif t in ('Int','BigInt'): default = ' DEFAULT 0'
        elif t == 'Boolean': default = ' DEFAULT false'
        elif t == 'Json': default = " DEFAULT '{}'"
        elif t == 'DateTime': default = ' DEFAULT CURRENT_TIMESTAMP'
        elif t == 'String' and not pk and name not in ('token','request_id','user_id','team_id','organization_id'): default = " DEFAULT ''"
    if name == 'id' and table == 'LiteLLM_ModelTable':
        return '"id" BIGSERIAL PRIMARY KEY' if pg else '"id" INTEGER PRIMARY KEY AUTOINCREMENT'
    s = f'"{name}" {base}'
    if pk: s += ' PRIMARY KEY'
    elif not nullable: s += ' NOT NULL'
    s += default
    if uq: s += ' UNIQUE'
    return s
def table_sql(table, dialect):
    cols, extra = spec[table]
    parts = []
    for c in cols.split(', '):
        name, typ = c.split(':', 1)
        parts.append('    ' + coldef(table, name, typ, dialect))
    m = re.search(r'@@id\(\[([^\]]*)\]\)', extra)
    if m:
        parts.append('    PRIMARY KEY (' + ', '.join(f'"{x.strip()}"' for x in m.group(1).split(',')) + ')')
    out = [f'CREATE TABLE IF NOT EXISTS "{table}" (\n' + ',\n'.join(parts) + '\n);']
    idx = 0
    for kind, colsx in re.findall(r'@@(unique|index)\(\[([^\]]*)\]', extra):
        if table == 'LiteLLM_OrganizationMembership' and kind == 'unique': continue
        names = [x.strip() for x in colsx.split(',')]
        iname = f'{table}_{"_".join(names)}_{"key" if kind=="unique" else "idx"}'
        if len(iname) > 60: iname = f'{table}_unique_key' if kind == 'unique' else f'{table}_idx{idx}'
        idx += 1
        nulls = ' NULLS NOT DISTINCT' if (kind == 'unique' and dialect == 'pg' and table.startswith('LiteLLM_Daily')) else ''
        out.append(f'CREATE {"UNIQUE " if kind=="unique" else ""}INDEX IF NOT EXISTS "{iname}" ON "{table}" (' + ', '.join(f'"{n}"' for n in names) + f'){nulls};')
    return '\n'.join(out)
EXTRA_INDEXES = [
  ('LiteLLM_VerificationToken', ['key_alias']), ('LiteLLM_VerificationToken', ['organization_id']),
  ('LiteLLM_VerificationToken', ['created_at']),
  ('LiteLLM_UserTable', ['user_email']), ('LiteLLM_UserTable', ['organization_id']),
  ('LiteLLM_SpendLogs', ['user', 'startTime']), ('LiteLLM_SpendLogs', ['team_id', 'startTime']),
  ('LiteLLM_SpendLogs', ['end_user', 'startTime']),
  ('LiteLLM_DailyUserSpend', ['api_key', 'date']), ('LiteLLM_DailyTeamSpend', ['api_key', 'date']),
  ('LiteLLM_ProxyModelTable', ['model_name']), ('LiteLLM_TeamMembership', ['team_id']),
  ('LiteLLM_OrganizationMembership', ['organization_id']), ('LiteLLM_AuditLog', ['updated_at']),
]
def migration(dialect):
    pg = dialect == 'pg'
    out = ['-- llmrelay governance schema, version 1: LiteLLM\'s table and column names (litellm/proxy/schema.prisma).',
           '-- Money is exact: NUMERIC on PostgreSQL, decimal text on SQLite. Generated from one table list for both backends.', '']
    for t in TABLES:
        out.append(table_sql(t, dialect)); out.append('')
    out.append('-- Indexes for the queries llmrelay runs (beyond LiteLLM\'s own).')
    for t, cols in EXTRA_INDEXES:
        out.append(f'CREATE INDEX IF NOT EXISTS "{t}_{"_".join(cols)}_idx" ON "{t}" (' + ', '.join(f'"{c}"' for c in cols) + ');')
    out.append('')
    out.append('-- llmrelay: change feed polled by every instance (cache invalidation, DB models).')
    if pg:
        out.append('CREATE TABLE IF NOT EXISTS "llmrelay_changes" (\n    "id" BIGSERIAL PRIMARY KEY,\n    "kind" TEXT NOT NULL,\n    "object_id" TEXT NOT NULL,\n    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP\n);')
    else:
        out.append('CREATE TABLE IF NOT EXISTS "llmrelay_changes" (\n    "id" INTEGER PRIMARY KEY AUTOINCREMENT,\n    "kind" TEXT NOT NULL,\n    "object_id" TEXT NOT NULL,\n    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n);')
    out.append('CREATE INDEX IF NOT EXISTS "llmrelay_changes_created_at_idx" ON "llmrelay_changes" ("created_at");')
    return '\n'.join(out) + '\n'
base = sys.argv[1]
open(f'{base}/postgres/0001_governance.sql','w').write(migration('pg'))
open(f'{base}/sqlite/0001_governance.sql','w').write(migration('sqlite'))

def rust_kind(typ):
    t = typ.replace('(PK)','').replace('(U)','')
    nullable = t.endswith('?'); t = t.rstrip('?')
    if t.endswith('[]'): return 'List', False
    return {'String':'Text','Int':'Int','BigInt':'Int','Float':'Money','Boolean':'Bool','DateTime':'Time','Json':'Json','Bytes':'Text'}[t], nullable
rs = ['//! LiteLLM\'s tables as the store sees them (generated with the migrations from one table list).', '',
      'use crate::db::{Column, Kind, Table};', '']
for t in TABLES:
    cols, extra = spec[t]
    pk = [c.split(':')[0] for c in cols.split(', ') if '(PK)' in c]
    m = re.search(r'@@id\(\[([^\]]*)\]\)', extra)
    if m: pk = [x.strip() for x in m.group(1).split(',')]
    const = re.sub(r'(?<!^)(?=[A-Z])', '_', t.replace('LiteLLM_','')).upper()
    rs.append(f'pub static {const}: Table = Table {{')
    rs.append(f'    name: "{t}",')
    rs.append('    primary_key: &[' + ', '.join(f'"{k}"' for k in pk) + '],')
    rs.append('    columns: &[')
    for c in cols.split(', '):
        name, typ = c.split(':', 1)
        kind, nullable = rust_kind(typ)
        rs.append(f'        Column {{ name: "{name}", kind: Kind::{kind}, nullable: {"true" if nullable else "false"} }},')
    rs.append('    ],')
    rs.append('};')
    rs.append('')
open(f'{base}/../src/tables.rs','w').write('\n'.join(rs))
