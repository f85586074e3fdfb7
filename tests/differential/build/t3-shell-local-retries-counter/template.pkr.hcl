source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  provisioner "shell-local" {
    max_retries = 3
    inline = [
      "echo try >> tries.txt",
      "test $(wc -l < tries.txt) -ge 3",
    ]
  }
}
