source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
source "file" "b" {
  content = "b\n"
  target  = "b.txt"
}
build {
  sources = ["source.file.a", "source.file.b"]
  provisioner "shell-local" {
    inline = ["echo default-${source.name} > out-${source.name}.txt"]
    override = {
      "file.b" = {
        inline = ["echo overridden > out-b.txt"]
      }
    }
  }
}
