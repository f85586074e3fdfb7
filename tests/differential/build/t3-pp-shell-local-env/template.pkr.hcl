variable "tag" {
  default = "v1"
}
source "file" "a" {
  content = "hello\n"
  target  = "a.txt"
}
build {
  name    = "web"
  sources = ["source.file.a"]
  post-processor "shell-local" {
    environment_vars = ["TAG=${var.tag}", "SRC=${source.name}"]
    inline = [
      "echo \"$TAG $SRC $PACKER_BUILD_NAME $PACKER_BUILDER_TYPE\" > pp.txt",
    ]
  }
}
