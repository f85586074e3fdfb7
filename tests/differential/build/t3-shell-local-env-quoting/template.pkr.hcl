source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  provisioner "shell-local" {
    environment_vars = [
      "PLAIN=simple",
      "SPACES=with some spaces",
      "SQUOTE=it's",
      "DQUOTE=say \"hi\"",
      "DOLLAR=$HOME-and-$${x}",
      "EQUALS=a=b=c",
      "EMPTY=",
      "UNI=héllo ✓",
    ]
    inline = [
      "printf '%s|\\n' \"$PLAIN\" \"$SPACES\" \"$SQUOTE\" \"$DQUOTE\" \"$DOLLAR\" \"$EQUALS\" \"$EMPTY\" \"$UNI\" > out.txt",
    ]
  }
}
