# Every option below is set to the value that means "not used" (workloads/packer-templates
# sets each amazon-ebs option from a variable whose default is the plugin's zero value).
source "amazon-ebs" "x" {
  region                   = "us-east-1"
  source_ami               = "ami-12345678"
  instance_type            = "t3.micro"
  ssh_username             = "ubuntu"
  ami_name                 = "x-image"
  enable_t2_unlimited      = false
  enable_unlimited_credits = false
  security_group_filter {
    filters = {}
  }
  vpc_filter {
    filters = {}
  }
  # accepted already: the same "unset" values of other refused options
  spot_price          = ""
  spot_instance_types = []
}
build {
  sources = ["source.amazon-ebs.x"]
}
