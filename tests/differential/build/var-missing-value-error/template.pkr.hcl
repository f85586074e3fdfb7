variable "needed" {
  type = string
}
source "file" "out" {
  content = var.needed
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
