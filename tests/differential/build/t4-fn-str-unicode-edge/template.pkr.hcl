source "file" "out" {
  target  = "out.txt"
  content = <<EOT
[${upper("straße")}] [${lower("İSTANBUL")}] [${upper("ǆ")}] [${title("ǆemal élan o'neil")}]
[${substr("e\u0301te", 0, 2)}] [${length("e\u0301te")}] [${strrev("e\u0301a")}]
[${strrev("👨‍👩‍👧x")}] [${length("👨‍👩‍👧")}] [${substr("👍🏽ok", 0, 1)}]
[${upper("ﬁ")}] [${lower("ΣΑΣ")}] [${title("hello-world foo_bar")}]
[${substr("héllo", -3, -1)}] [${substr("héllo", 1, 100)}]
EOT
}
build {
  sources = ["source.file.out"]
}
