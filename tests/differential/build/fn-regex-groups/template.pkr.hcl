source "file" "out" {
  target  = "out.txt"
  content = <<EOT
regex("[a-z]+", "123abc456") = [${regex("[a-z]+", "123abc456")}]
regex("(\\d+)-(\\d+)", "10-20") = [${jsonencode(regex("(\\d+)-(\\d+)", "10-20"))}]
regex("(?P<y>\\d{4})-(?P<m>\\d{2})", "2020-05-06") = [${jsonencode(regex("(?P<y>\\d{4})-(?P<m>\\d{2})", "2020-05-06"))}]
regex("(a)|(b)", "b") = [${jsonencode(regex("(a)|(b)", "b"))}]
regex("(?P<a>x)?(?P<b>y)", "y") = [${jsonencode(regex("(?P<a>x)?(?P<b>y)", "y"))}]
regex("\\pL+", "123héllo") = [${regex("\\pL+", "123héllo")}]
regex("(?i)HELLO", "say hello") = [${regex("(?i)HELLO", "say hello")}]
regex("^\\s*(\\S+)", "  word rest") = [${jsonencode(regex("^\\s*(\\S+)", "  word rest"))}]
regex("", "abc") = [${regex("", "abc")}]
EOT
}

build {
  sources = ["source.file.out"]
}
