source "amazon-ebs" "x" {
  region               = "us-east-1"
  source_ami           = "ami-12345678"
  instance_type        = "t3.micro"
  ssh_username         = "ubuntu"
  ami_name             = "x-image"
  iam_instance_profile = "packer-ssm"
  ssh_interface        = "session_manager"
}
source "amazon-ebs" "y" {
  region        = "us-east-1"
  source_ami    = "ami-12345678"
  instance_type = "t3.micro"
  ssh_username  = "ubuntu"
  ami_name      = "y-image"
  ssh_interface = "ipv6"
}
build { sources = ["source.amazon-ebs.x", "source.amazon-ebs.y"] }
