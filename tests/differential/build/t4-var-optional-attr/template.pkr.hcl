variable "x" {
  type    = object({ a = string, b = optional(string) })
  default = { a = "1" }
}
source "file" "out" {
  target  = "out.txt"
  content = "${jsonencode(var.x)}\n"
}
build {
  sources = ["source.file.out"]
}
