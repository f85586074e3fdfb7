variable "opt" {
  type    = string
  default = null
}
variable "lst" {
  type    = list(string)
  default = null
}
source "file" "out" {
  target  = "out.txt"
  content = "${coalesce(var.opt, "fallback")}\n${var.opt == null}\n${var.lst == null ? "nolist" : "list"}\n"
}
build {
  sources = ["source.file.out"]
}
