package checkcode_test

import (
	"crypto/rand"
	"errors"
	"fmt"

	"biobank/internal/checkcode"
)

func ExampleAppend() {
	code, err := checkcode.Append("100000")
	fmt.Println(code, err)
	// Output: 10000098 <nil>
}

func ExampleCheck() {
	// What a person typed: lower case, a hyphen, a letter O for a zero, and one wrong symbol.
	_, err := checkcode.Check("1ooo-0099", 8)
	var ce *checkcode.CheckError
	if errors.As(err, &ce) {
		fmt.Println(ce.Suggestions)
	}
	fmt.Println(err)
	// Output:
	// [10000098]
	// "10000099" has a wrong check character: it was probably mistyped or misread. Did you mean 10000098?
}

func ExampleGenerate() {
	pseudonym, err := checkcode.Generate(rand.Reader, 6)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(pseudonym), checkcode.Valid(pseudonym))
	// Output: 8 true
}
