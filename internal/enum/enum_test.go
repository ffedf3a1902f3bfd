package enum

import "testing"

type color int

var colors = Names[color]{Kind: "color", Names: []string{"red", "green", "blue"}}

func TestNames(t *testing.T) {
	if got := colors.String(1); got != "green" {
		t.Errorf("String(1) = %q", got)
	}
	if got := colors.String(7); got != "color(7)" {
		t.Errorf("String(7) = %q", got)
	}
	if got := colors.String(-1); got != "color(-1)" {
		t.Errorf("String(-1) = %q", got)
	}
	if v, err := colors.Parse("BLUE"); err != nil || v != 2 {
		t.Errorf("Parse(BLUE) = %v, %v", v, err)
	}
	if _, err := colors.Parse("mauve"); err == nil || err.Error() != `color "mauve": want red, green or blue` {
		t.Errorf("Parse(mauve) error = %v", err)
	}
	var c color
	if err := colors.Unmarshal(&c, []byte("green")); err != nil || c != 1 {
		t.Errorf("Unmarshal(green) = %v, %v", c, err)
	}
	if err := colors.Unmarshal(&c, []byte("")); err == nil || c != 1 {
		t.Errorf("Unmarshal(\"\") = %v, %v: want an error and c unchanged", c, err)
	}
}
