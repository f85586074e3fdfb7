packer {
  required_version = ">= 1.6.0, < 2.0.0"
}
source "file" "out" {
  target  = "out.txt"
  content = "ok\n"
}
build {
  sources = ["source.file.out"]
}
