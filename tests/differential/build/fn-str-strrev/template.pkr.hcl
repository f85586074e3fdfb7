source "file" "out" {
  target  = "out.txt"
  content = <<EOT
strrev("abc") = [${strrev("abc")}]
strrev("") = [${strrev("")}]
strrev("e\u0301x") = [${strrev("e\u0301x")}]
strrev("🇺🇸🇬🇧") = [${strrev("🇺🇸🇬🇧")}]
strrev("👍🏽a") = [${strrev("👍🏽a")}]
strrev("a\r\nb") = [${strrev("a\r\nb")}]
strrev("日本語") = [${strrev("日本語")}]
strrev("👨‍👩‍👧b") = [${strrev("👨‍👩‍👧b")}]
EOT
}

build {
  sources = ["source.file.out"]
}
