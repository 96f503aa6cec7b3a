# expect: several module blocks call the multi-region module: module.blue (tests/import-terraform/07-two-modules.tf:2:1), module.green
module "blue" {
  source    = "./modules/multi-region"
  regions   = [{ id = "us-west-1", is_primary = true, priority = 1 }]
  tailscale = { enabled = false }
}

module "green" {
  source    = "git::https://example.com/terraform.git//modules/multi-region?ref=v1"
  regions   = [{ id = "us-west-1", is_primary = true, priority = 1 }]
  tailscale = { enabled = false }
}
