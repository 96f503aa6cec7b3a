-- Argo CD health check for apps.foundationdb.org FoundationDBCluster (FDB Kubernetes operator
-- v2.33.0 and v1.45.0). Paste it unchanged under the argocd-cm key
-- resource.customizations.health.apps.foundationdb.org_FoundationDBCluster.
--
-- Argo CD sets the global `obj` to the live object; the script returns a table with `status`
-- and `message`. It runs without Argo CD's open libraries (the default): only the base
-- functions, `table` and `os.time`/`os.date` exist, so it uses no `string` or `math` function
-- and no string methods.
--
-- What each status means, checked in this order:
--   Suspended    spec.skip is true: the operator does not reconcile the cluster and does not
--                update its status, so the status may be out of date.
--   Progressing  no status yet, or no generation reconciled yet (a new cluster: the database
--                may still be unavailable, that is expected here).
--   Degraded     the database is unavailable (status.health.available is not true), once a
--                generation has been reconciled. This wins over a change in progress: an
--                outage during a rollout is still an outage.
--   Progressing  the operator works on the spec: the reconciled generation is behind
--                metadata.generation, or status.generations has a pending entry (any key but
--                reconciled and hasPendingRemoval).
--   Degraded     nothing is pending, but the data is not fully replicated. Argo CD keeps no
--                history, so "not replicated for long" cannot be measured; the rule used is
--                "the operator has nothing left to do that would explain it". Right after a
--                process fails, before the operator records it, this can show for a short while.
--   Healthy      generation reconciled, database available and fully replicated. FDB's own
--                `healthy` flag is only added to the message: FDB clears it for any process or
--                cluster message in its status, which is too noisy to degrade on.
--
-- Fields read, as the operator defines and sets them (OP = FoundationDB/fdb-kubernetes-operator,
-- with the upstream path and line at the tag):
--   spec.skip
--     OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:241; when set, the reconcile loop
--     returns before doing anything, OP@v2.33.0:controllers/cluster_controller.go:218.
--   status.generations
--     OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:292; every entry is an int64 with
--     omitempty, so a 0 is absent (OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:1187-1247).
--   status.generations.reconciled
--     OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:1189; raised to metadata.generation
--     only when every check passes (OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:1975)
--     and carried over when the status is rebuilt (OP@v2.33.0:controllers/update_status.go:63).
--     "Behind" is reconciled < metadata.generation, as the operator itself decides whether to
--     requeue (OP@v2.33.0:controllers/cluster_controller.go:374).
--   the other status.generations keys
--     each check starts from a struct holding only `reconciled`
--     (OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:1756) and sets one key to the
--     generation per unfinished item, e.g. missingDatabaseStatus when the database is
--     unavailable (OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:1871-1873). A pending
--     removal does not block reconciliation
--     (OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:1234-1238, set at
--     OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:1789), so hasPendingRemoval is not
--     pending work. Before the first configuration only needsConfigurationChange is set
--     (OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:1750-1753).
--   status.health.available
--     OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:1252; FDB's
--     client.database_status.available (OP@v2.33.0:controllers/update_status.go:169), and false
--     when the operator cannot fetch the status at all
--     (OP@v2.33.0:controllers/update_status.go:76-78).
--   status.health.fullReplication
--     OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:1259; FDB's cluster.full_replication
--     (OP@v2.33.0:controllers/update_status.go:171).
--   status.health.healthy
--     OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:1255; FDB's
--     client.database_status.healthy (OP@v2.33.0:controllers/update_status.go:170), which FDB
--     clears when any message is present (FDB@7.3.79:fdbclient/StatusClient.actor.cpp:494-496,
--     FDB = apple/foundationdb).
--   The operator's `kubectl fdb analyze` flags the same three signals: not available, not fully
--   replicated, not reconciled (OP@v2.33.0:kubectl-fdb/cmd/analyze.go:261, :268 and :276); its
--   CRD prints them as the Reconciled, Available and FullReplication columns
--   (OP@v2.33.0:config/crd/bases/apps.foundationdb.org_foundationdbclusters.yaml:26, :30, :34).
--
-- v1.45.0 has the same fields, JSON names and checks: spec.skip
-- OP@v1.45.0:api/v1beta2/foundationdbcluster_types.go:217, status.generations :267,
-- status.health :270, reconciled :1014, missingDatabaseStatus :1046, hasPendingRemoval :1063,
-- available :1077, healthy :1080, fullReplication :1084 (all in that file); CheckReconciliation
-- OP@v1.45.0:api/v1beta2/foundationdbcluster_types.go:1517, its reset at :1526 and the reconciled
-- generation at :1668; the served v1beta1 uses the same names
-- (OP@v1.45.0:api/v1beta1/foundationdbcluster_types.go:339, :405, :408, :907, :981, :984, :988).
-- One difference: when v1.45.0 cannot fetch the database status it leaves status.health as it
-- was (OP@v1.45.0:controllers/update_status.go:63-69), so a database that stopped answering can
-- still show as available there.

local hs = {}

local function field(tbl, key)
  if type(tbl) == "table" then
    return tbl[key]
  end
  return nil
end

local function show(value)
  if value == nil then
    return "?"
  end
  return tostring(value)
end

if field(obj.spec, "skip") == true then
  hs.status = "Suspended"
  hs.message = "Reconciliation is skipped (spec.skip is true); the status may be out of date"
  return hs
end

local status = obj.status
if type(status) ~= "table" then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator: no status yet"
  return hs
end

local generation = tonumber(field(obj.metadata, "generation"))
local generations = field(status, "generations")
local reconciled = tonumber(field(generations, "reconciled")) or 0
local health = field(status, "health")
local available = field(health, "available") == true
local replicated = field(health, "fullReplication") == true

-- The pending entries of status.generations, sorted so that the message is stable.
local pending = {}
if type(generations) == "table" then
  for key, value in pairs(generations) do
    local number = tonumber(value)
    if key ~= "reconciled" and key ~= "hasPendingRemoval" and number ~= nil and number > 0 then
      table.insert(pending, key)
    end
  end
end
table.sort(pending)

-- Adds the pending entries, and the replication state where it means something (the database
-- is available).
local function with_pending(text)
  if #pending > 0 then
    text = text .. "; pending: " .. table.concat(pending, ", ")
  end
  if available and not replicated then
    text = text .. "; data not fully replicated"
  end
  return text
end

if reconciled <= 0 then
  hs.status = "Progressing"
  hs.message =
    with_pending("Creating: no generation reconciled yet (generation " .. show(generation) .. ")")
  return hs
end

local where = "(generation " .. show(generation) .. ", reconciled " .. show(reconciled) .. ")"

if not available then
  hs.status = "Degraded"
  hs.message = "Database unavailable " .. where
  return hs
end

if generation ~= nil and reconciled < generation then
  hs.status = "Progressing"
  hs.message = with_pending("Reconciling " .. where)
  return hs
end

if #pending > 0 then
  hs.status = "Progressing"
  hs.message = with_pending("Operator has pending work " .. where)
  return hs
end

if not replicated then
  hs.status = "Degraded"
  hs.message = "Data not fully replicated and no operator work pending " .. where
  return hs
end

hs.status = "Healthy"
hs.message = "Reconciled generation " .. show(reconciled)
  .. "; database available and fully replicated"
if field(health, "healthy") ~= true then
  hs.message = hs.message .. "; FDB reports warnings (status.health.healthy is not true)"
end
if tonumber(field(generations, "hasPendingRemoval")) ~= nil then
  hs.message = hs.message .. "; removal of excluded process groups pending"
end
return hs
