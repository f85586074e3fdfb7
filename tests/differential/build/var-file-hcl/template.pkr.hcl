variable "name" {
  type    = string
  default = "default"
}
variable "count" {
  type    = number
  default = 0
}
variable "tags" {
  type    = map(string)
  default = {}
}
variable "list" {
  type    = list(number)
  default = []
}
source "file" "out" {
  content = "${var.name} ${var.count} ${jsonencode(var.tags)} ${jsonencode(var.list)}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
