source "file" "out" {
  target  = "out.txt"
  content = <<EOT
"1e3" + 0 = [${"1e3" + 0}]
"-0" + 0 = [${"-0" + 0}]
"1.50" + 0 = [${"1.50" + 0}]
"00012" + 1 = [${"00012" + 1}]
"0.1" * 3 = [${"0.1" * 3}]
"$${1}" == "1" = [${"${1}" == "1"}]
1 == "1" = [${1 == "1"}]
true ? "y" : "n" = [${true ? "y" : "n"}]
"false" ? 1 : 2 = [${"false" ? 1 : 2}]
"true" && true = [${"true" && true}]
"1" == 1.0 = [${"1" == 1.0}]
5 > "10" = [${5 > "10"}]
"$${true}$${false}" = [${"${true}${false}"}]
"$${null == null}" = [${"${null == null}"}]
EOT
}

build {
  sources = ["source.file.out"]
}
