# expect: not valid HCL
module "inferadb" {
  source = "./modules/multi-region"
  regions = [
}
