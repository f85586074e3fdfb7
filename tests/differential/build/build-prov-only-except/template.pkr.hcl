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
    only   = ["file.a"]
    inline = ["echo only-a > only-${source.name}.txt"]
  }
  provisioner "shell-local" {
    except = ["file.a"]
    inline = ["echo except-a > except-${source.name}.txt"]
  }
  provisioner "shell-local" {
    inline = ["echo all > all-${source.name}.txt"]
  }
}
