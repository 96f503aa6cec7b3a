# expect: module.inferadb.regions[0].priority: expected an integer
module "inferadb" {
  source = "./modules/multi-region"
  regions = [
    {
      id         = "us-west-1"
      is_primary = true
      priority   = "1"
    }
  ]
  tailscale = { enabled = false }
}
