variable "cfg" {
  type = object({ name = string, ports = list(number), labels = map(string) })
}
variable "plain" {
  type    = string
  default = "d"
}
variable "anyv" {
  default = "d"
}
source "file" "out" {
  target  = "out.txt"
  content = "${jsonencode(var.cfg)}\n${var.plain}\n${jsonencode(var.anyv)}\n"
}
build {
  sources = ["source.file.out"]
}
