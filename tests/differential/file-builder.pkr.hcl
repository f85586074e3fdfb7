variable "greeting" {
  default = "hello"
}
source "file" "motd" {
  content = "${var.greeting}\n"
  target  = "motd.txt"
}
build {
  sources = ["source.file.motd"]
  post-processor "checksum" {
    checksum_types = ["md5", "sha256"]
  }
  post-processor "compress" {
    output = "motd.tar.gz"
  }
}
