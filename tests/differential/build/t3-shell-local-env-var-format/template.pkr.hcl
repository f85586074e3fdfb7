source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  provisioner "shell-local" {
    environment_vars = ["A=one two", "B=x'y"]
    env_var_format   = "export %s='%s'; "
    execute_command  = ["/bin/sh", "-c", "{{.Vars}}/bin/sh {{.Script}}"]
    inline           = ["echo \"[$A][$B]\" > out.txt"]
  }
}
