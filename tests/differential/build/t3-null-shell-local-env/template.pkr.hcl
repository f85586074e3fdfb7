source "null" "n" {
  communicator = "none"
}
build {
  name    = "b"
  sources = ["source.null.n"]
  provisioner "shell-local" {
    inline = [
      "echo name=$PACKER_BUILD_NAME > out.txt",
      "echo type=$PACKER_BUILDER_TYPE >> out.txt",
    ]
  }
}
