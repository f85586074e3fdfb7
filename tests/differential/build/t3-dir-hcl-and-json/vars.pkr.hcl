variable "v" {
  default = "from-hcl"
}
