packer {
  required_plugins {
    docker = {
      version = ">= 0.0.7"
      source  = "github.com/hashicorp/docker"
    }
  }
}
source "file" "out" {
  target  = "out.txt"
  content = "ok\n"
}
build {
  sources = ["source.file.out"]
}
