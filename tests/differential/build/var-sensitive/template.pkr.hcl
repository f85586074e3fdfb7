variable "pw" {
  type      = string
  default   = "hunter2"
  sensitive = true
}
source "file" "out" {
  content = "pw=${var.pw}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
