variable "iso_url" {
  type    = string
  default = ""
}
source "null" "x" {
  communicator = "none"
}
build {
  sources = ["source.null.x"]
}
