package store

// SetPageBudget lets tests make filtered listings end pages early.
func SetPageBudget(n int) (restore func()) {
	old := pageBudget
	pageBudget = n
	return func() { pageBudget = old }
}

// Table returns the store's table name.
func (s *Store) Table() string { return s.table }
