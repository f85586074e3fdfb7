source "file" "out" {
  target  = "out.txt"
  content = <<EOT
length("") = [${length("")}]
length("héllo") = [${length("héllo")}]
length("e\u0301") = [${length("e\u0301")}]
length("👍🏽") = [${length("👍🏽")}]
length("🇺🇸🇬🇧") = [${length("🇺🇸🇬🇧")}]
length("\r\n") = [${length("\r\n")}]
length("日本語") = [${length("日本語")}]
length("👨‍👩‍👧") = [${length("👨‍👩‍👧")}]
length([]) = [${length([])}]
length({}) = [${length({})}]
length({ a = 1, b = 2 }) = [${length({ a = 1, b = 2 })}]
length([null, null]) = [${length([null, null])}]
length(["a", ["b", "c"]]) = [${length(["a", ["b", "c"]])}]
EOT
}

build {
  sources = ["source.file.out"]
}
