source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  provisioner "shell-local" {
    environment_vars = ["GREETING=hello world", "N=2"]
    execute_command  = ["/bin/sh", "-c", "{{.Vars}} /bin/sh {{.Script}} extra-arg"]
    inline           = ["echo \"$GREETING/$N/$1/$#\" > out.txt"]
  }
}
