# expect: var.environment has no value
module "inferadb" {
  source       = "./modules/multi-region"
  regions      = [{ id = "us-west-1", is_primary = true, priority = 1, namespace = "inferadb-${var.environment}" }]
  tailscale    = { enabled = false }
  cluster_name = module.naming.cluster
  fdb_version  = [for v in ["7.3.43"] : v][0]
}
