variable "token" {
  type      = string
  default   = "s3cr3t"
  sensitive = true
}
locals {
  header = "Bearer ${var.token}"
}
source "file" "out" {
  content = "${local.header}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
  provisioner "shell-local" {
    environment_vars = ["TOKEN=${var.token}"]
    inline           = ["echo \"env=$TOKEN\" > env.txt"]
  }
}
