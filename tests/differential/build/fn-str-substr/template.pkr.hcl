source "file" "out" {
  target  = "out.txt"
  content = <<EOT
substr("hello", 1, 3) = [${substr("hello", 1, 3)}]
substr("hello", -3, 2) = [${substr("hello", -3, 2)}]
substr("hello", 0, -1) = [${substr("hello", 0, -1)}]
substr("hello", 2, 100) = [${substr("hello", 2, 100)}]
substr("héllo", 1, 1) = [${substr("héllo", 1, 1)}]
substr("hello", -1, -1) = [${substr("hello", -1, -1)}]
substr("", 0, 0) = [${substr("", 0, 0)}]
substr("👍🏽ab", 0, 1) = [${substr("👍🏽ab", 0, 1)}]
substr("hello", 5, 1) = [${substr("hello", 5, 1)}]
substr("hello", 1, 0) = [${substr("hello", 1, 0)}]
substr("e\u0301e\u0301", 1, 1) = [${substr("e\u0301e\u0301", 1, 1)}]
substr("hello", -5, 1) = [${substr("hello", -5, 1)}]
substr("hello", 6, 1) = [${substr("hello", 6, 1)}]
substr("hello", -6, 1) = [${substr("hello", -6, 1)}]
substr("hello", -100, 2) = [${substr("hello", -100, 2)}]
EOT
}

build {
  sources = ["source.file.out"]
}
