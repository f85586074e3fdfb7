variable "home" {
  type    = string
  default = env("T3_HOME")
}
variable "unset" {
  default = env("T3_NOT_SET_ANYWHERE")
}
source "file" "out" {
  content = "[${var.home}][${var.unset}]\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
