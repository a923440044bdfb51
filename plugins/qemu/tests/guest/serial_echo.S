/* A multiboot guest for tests: prints a banner on COM1, then echoes what it
   reads there in upper case.  Polls the UART, so it needs no interrupts. */
        .set MB_MAGIC, 0x1BADB002
        .set MB_FLAGS, 0
        .set COM1, 0x3f8

        .text                   /* the header must lie in the first 8 KiB */
        .align 4
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)

        .code32
        .globl _start
_start:
        mov $banner, %esi
print:
        movb (%esi), %al
        test %al, %al
        jz echo
        mov $COM1, %dx
        outb %al, %dx
        inc %esi
        jmp print
echo:
        mov $COM1 + 5, %dx      /* line status: bit 0 = a byte has arrived */
        inb %dx, %al
        test $1, %al
        jz echo
        mov $COM1, %dx
        inb %dx, %al
        cmp $'a', %al
        jb 1f
        cmp $'z', %al
        ja 1f
        sub $0x20, %al
1:      outb %al, %dx
        jmp echo

banner: .asciz "virtkit test guest ready\r\n"
