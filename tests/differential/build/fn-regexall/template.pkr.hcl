source "file" "out" {
  target  = "out.txt"
  content = <<EOT
regexall("\\d", "a1b2c3") = [${jsonencode(regexall("\\d", "a1b2c3"))}]
regexall("(\\w)(\\d)", "a1 b2") = [${jsonencode(regexall("(\\w)(\\d)", "a1 b2"))}]
regexall("x", "abc") = [${jsonencode(regexall("x", "abc"))}]
regexall("a*", "baaa") = [${jsonencode(regexall("a*", "baaa"))}]
regexall("", "ab") = [${jsonencode(regexall("", "ab"))}]
regexall("(?P<k>\\w+)=(?P<v>\\w*)", "a=1 b= c=3") = [${jsonencode(regexall("(?P<k>\\w+)=(?P<v>\\w*)", "a=1 b= c=3"))}]
length(regexall("o", "foo boo")) = [${length(regexall("o", "foo boo"))}]
EOT
}

build {
  sources = ["source.file.out"]
}
