"""The GraphQL documents the portal's pages run: the public schema only, as the signed-in user
(row-level security and the schema's role checks apply exactly as to any client)."""

ME = """query PortalMe { me { subject role tenantCodes hospitalCode }
  tenants(first: 100) { nodes { code name kind parentCode } } }"""

HOSPITALS = """query PortalHospitals($tenant: String!, $after: String) {
  hospitals(tenant: $tenant, first: 100, after: $after) {
    nodes { code name level tenantCode } pageInfo { hasNextPage endCursor } } }"""

HOSPITAL = """query PortalHospital($tenant: String!, $code: String!) {
  hospital(tenant: $tenant, code: $code) { code name level tenantCode } }"""

BUDGET = """query PortalBudget($tenant: String!, $year: Int!) {
  budgets(tenant: $tenant, year: $year, first: 50) {
    nodes { ledger version total reserve pointsBudget lastYearSpending growthRate createdAt } }
  settlementRuns(tenant: $tenant, year: $year, first: 100) {
    nodes { databaseId kind month ledger version status
      figures { pointValue provisionalPointValue totalPoints fundTotal } } } }"""

RUNS = """query PortalRuns($tenant: String!, $year: Int!) {
  settlementRuns(tenant: $tenant, year: $year, first: 100) {
    nodes { databaseId kind month ledger version status createdAt publishedAt
      figures { hospitals payment } } } }"""

STATEMENTS = """query PortalStatements($tenant: String!, $year: Int!, $after: String) {
  settlementRuns(tenant: $tenant, year: $year, first: 100, after: $after) {
    nodes { id databaseId kind month ledger version status
      lines(first: 100) { nodes { ...portalLine } pageInfo { hasNextPage endCursor } } }
    pageInfo { hasNextPage endCursor } } }
fragment portalLine on SettlementLine { hospital cases points due payment }"""

# A run's lines after its first 100 (a region of more hospitals), page by page.
RUN_LINES = """query PortalRunLines($tenant: String!, $id: ID!, $after: String) {
  settlementRun(tenant: $tenant, id: $id) {
    lines(first: 100, after: $after) {
      nodes { hospital cases points due payment } pageInfo { hasNextPage endCursor } } } }"""

RANKING = """query PortalRanking($tenant: String!, $year: Int!, $after: String) {
  evaluationResults(tenant: $tenant, year: $year, first: 100, after: $after) {
    nodes { hospital tenantCode total rankBand coefficient level }
    pageInfo { hasNextPage endCursor } } }"""

PNL = """query PortalPnl($tenant: String!, $year: Int!, $hospital: String) {
  total: analytics(tenant: $tenant, year: $year, hospital: $hospital) { nodes { figures {
    cases pointsCases points expectedPayment cost pricedCost profitLoss cmi } } }
  byDrg: analytics(tenant: $tenant, year: $year, hospital: $hospital, groupBy: [drg], first: 100) {
    nodes { key { drg } figures { cases points expectedPayment cost profitLoss } }
    pageInfo { hasNextPage } } }"""

JOBS = """query PortalJobs($tenant: String) {
  running: jobs(tenant: $tenant, status: running, first: 100) { nodes { ...portalJob } }
  queued: jobs(tenant: $tenant, status: queued, first: 100) { nodes { ...portalJob } } }
fragment portalJob on Job { databaseId tenantCode kind status progressDone progressTotal progress message
  localizedMessage createdBy createdAt startedAt }"""

REFUSED = """query PortalRefused($tenant: String, $after: String) {
  ingestionBatches(tenant: $tenant, first: 100, after: $after) {
    nodes { databaseId tenantCode status rowsTotal rowsAccepted rowsRefused createdAt finishedAt
            errorsCsvUrl errorsXlsxUrl }
    pageInfo { hasNextPage endCursor } } }"""
