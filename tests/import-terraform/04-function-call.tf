# expect: the function call lower(...) is not evaluated
module "inferadb" {
  source       = "./modules/multi-region"
  regions      = [{ id = "us-west-1", is_primary = true, priority = 1 }]
  tailscale    = { enabled = false }
  cluster_name = lower("InferaDB-FDB")
}
