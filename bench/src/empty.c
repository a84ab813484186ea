/* The smallest static glibc program: the size floor. */
int main(void) { return 0; }
